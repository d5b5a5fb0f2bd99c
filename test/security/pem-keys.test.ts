// PEM and key helpers: round trips for the files dietmesh writes, and clear errors for bad input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { certificatesFromPem, certificatesToPem, fromBase64, pemDecode, pemDecodeAll, pemEncode, toBase64 } from "../../runtime/security/pem.ts";
import { createCsr, generateKeyPair, generateWorkloadKey, privateKeyFromPem, privateKeyToPem, signingAlgorithm } from "../../runtime/security/keys.ts";
import { createRootCa } from "../../runtime/security/ca.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

test("base64 and PEM round trip, 64-column lines, any size", () => {
  const big = crypto.getRandomValues(new Uint8Array(65_536));
  assert.equal(fromBase64(toBase64(big)), big);
  const pem = pemEncode("CERTIFICATE", big.subarray(0, 100));
  assert.ok(pem.startsWith("-----BEGIN CERTIFICATE-----\n") && pem.endsWith("-----END CERTIFICATE-----\n"));
  assert.ok(pem.split("\n").every((line) => line.length <= 64));
  assert.equal(pemDecode(`junk before\n${pem}junk after`, "CERTIFICATE"), big.subarray(0, 100));
});

test("blocks are picked by label, in order; missing or broken blocks are pem-invalid", () => {
  const text = pemEncode("PRIVATE KEY", new Uint8Array([1])) + pemEncode("CERTIFICATE", new Uint8Array([2])) + pemEncode("CERTIFICATE", new Uint8Array([3]));
  assert.equal(pemDecodeAll(text, "CERTIFICATE").map((b) => [...b]), [[2], [3]]);
  assert.is(codeOf(() => pemDecode(text, "CERTIFICATE REQUEST")), "pem-invalid");
  assert.is(codeOf(() => pemDecode("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----", "CERTIFICATE")), "pem-invalid");
  assert.is(codeOf(() => certificatesFromPem(pemEncode("CERTIFICATE", new Uint8Array([0x30, 0])))), "pem-invalid");
});

test("certificates: PEM chain out and back", async () => {
  const clock = createFakeClock(Date.UTC(2030, 0, 1));
  const a = await createRootCa({ trustDomain: "a.example", clock });
  const b = await createRootCa({ trustDomain: "b.example", clock });
  const back = certificatesFromPem(certificatesToPem([a.certificate, b.certificate]));
  assert.equal(back.map((c) => c.subject), [a.certificate.subject, b.certificate.subject]);
});

test("PKCS#8 private keys (EC and RSA) round trip and still sign", async () => {
  for (const type of ["ec-p256", "rsa-2048"] as const) {
    const keys = await generateKeyPair(type);
    const pem = await privateKeyToPem(keys.privateKey);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const back = await privateKeyFromPem(pem);
    assert.is(back.algorithm.name, keys.privateKey.algorithm.name);
    assert.not.ok(back.extractable, "loaded keys stay in memory");
    const data = new TextEncoder().encode("x");
    const alg = { ...signingAlgorithm(back), hash: "SHA-256" };
    assert.ok(await crypto.subtle.verify(alg, keys.publicKey, await crypto.subtle.sign(alg, back, data), data));
  }
  const bogus = pemEncode("PRIVATE KEY", new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]));
  await privateKeyFromPem(bogus).then(() => assert.unreachable(), (e) => assert.is(e.code, "key-unsupported"));
});

test("the workload makes an ECDSA P-256 key and a self-signed CSR with an empty subject", async () => {
  const keys = await generateWorkloadKey();
  assert.equal(keys.privateKey.algorithm, { name: "ECDSA", namedCurve: "P-256" });
  const csr = await createCsr(keys);
  assert.is(csr.subject, "");
  assert.ok(await csr.verify());
  assert.match(csr.toString("pem"), /^-----BEGIN CERTIFICATE REQUEST-----/);
});

test.run();
