// local-ca.ts (a proxy's --ca-dir signer, written with der.ts) against ca.ts (the CA's, with
// @peculiar/x509): for EC and RSA CAs and workload keys, the same CSR signed by both at the same
// fake time must give certificates that read the same field by field — except serial, SKI/AKI
// values' provenance and the signature — and openssl verify -x509_strict must accept ours. Also:
// the CSR's signature is checked, the CA's validity and trust domain are enforced, the loader gives
// loadCaDir's errors, and the constants agree with ca.ts's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runCa } from "../../runtime/cli/ca.ts";
import { BACKDATE_MS, DEFAULT_TTL_MS, issueFromCsr, loadLocalCa, localCaSigner } from "../../runtime/security/local-ca.ts";
import { BACKDATE_MS as CA_BACKDATE, DEFAULT_SVID_TTL_MS, issueSvidFromCsr } from "../../runtime/security/ca.ts";
import { loadCaDir } from "../../runtime/security/ca-store.ts";
import { createCsrPem, generateKeyPair, type KeyType } from "../../runtime/security/keys.ts";
import { SecurityError } from "../../runtime/security/errors.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { verifySvid } from "../../runtime/security/verify.ts";
import { certificatesFromPemText } from "../../runtime/security/certificate.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import { createFakeClock, systemClock } from "../../runtime/lib/clock.ts";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import type { X509Certificate } from "@peculiar/x509";

const root = await platform.makeTempDir("dietmesh-local-ca-");
const ID = SpiffeId.forWorkload("mesh.example", "shop", "cart");

async function caDir(keyType: KeyType): Promise<string> {
  const dir = `${root}/ca-${keyType}`;
  assert.is(await runCa(["init", "--dir", dir, "--trust-domain", "mesh.example", "--key-type", keyType], { print: () => {} }), 0);
  return dir;
}

/** every field of an issued certificate that does not depend on randomness */
function profile(cert: X509Certificate) {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    publicKey: [...new Uint8Array(cert.publicKey.rawData)],
    signatureAlgorithm: cert.signatureAlgorithm,
    extensions: [...cert.extensions].map((e) => ({ type: e.type, critical: e.critical, value: [...new Uint8Array(e.value)] })),
    serialBytes: cert.serialNumber.length / 2,
  };
}

test("the constants are ca.ts's", () => {
  assert.is(BACKDATE_MS, CA_BACKDATE);
  assert.is(DEFAULT_TTL_MS, DEFAULT_SVID_TTL_MS);
});

for (const caKey of ["ec-p256", "rsa-2048"] as KeyType[]) {
  for (const workloadKey of ["ec-p256", "rsa-2048"] as KeyType[]) {
    test(`${caKey} CA, ${workloadKey} workload key: the same SVID as ca.ts, and openssl -x509_strict accepts it`, async () => {
      const dir = `${root}/ca-${caKey}`;
      if (!(await platform.readDir(root)).includes(`ca-${caKey}`)) await caDir(caKey);
      const ours = await loadLocalCa(dir);
      const theirs = (await loadCaDir(dir)).ca;
      assert.is(ours.trustDomain, theirs.trustDomain);
      const keys = await generateKeyPair(workloadKey);
      const csrPem = await createCsrPem(keys, ID);
      const clock = createFakeClock(Date.now() + 1_500); // any time inside the root's life; 1.5 s: the rounding is exercised
      const mine = new x509.X509Certificate(await issueFromCsr(ours, { csrPem, spiffeId: ID, clock, ttlMs: 3_600_000 }));
      const reference = await issueSvidFromCsr(theirs, { csr: csrPem, spiffeId: ID, clock, ttlMs: 3_600_000 });
      assert.equal(profile(mine), profile(reference));
      assert.is(mine.serialNumber.length, 32, "16-byte serial");
      assert.ok(await mine.verify({ publicKey: theirs.certificate.publicKey, signatureOnly: true }), "signed by the CA key");
      // the default TTL and the issuer's notAfter cap
      const capped = new x509.X509Certificate(await issueFromCsr(ours, { csrPem, spiffeId: ID, clock, ttlMs: 100 * 365 * 86_400_000 }));
      assert.is(capped.notAfter.getTime(), theirs.certificate.notAfter.getTime());
      const byDefault = new x509.X509Certificate(await issueFromCsr(ours, { csrPem, spiffeId: ID, clock }));
      assert.equal(profile(byDefault), profile(await issueSvidFromCsr(theirs, { csr: csrPem, spiffeId: ID, clock })));

      await platform.writeTextFile(`${root}/leaf.pem`, mine.toString("pem"));
      const child = runCommand("openssl", ["verify", "-x509_strict", "-CAfile", `${dir}/root-cert.pem`, `${root}/leaf.pem`]);
      assert.is(await child.exited, 0, child.lines.join("\n"));
      assert.match(child.lines.join("\n"), /leaf.pem: OK/);
    });
  }
}

test("the signer: the identity asked, verified against the root; bad CSRs and an expired CA refused", async () => {
  const dir = (await platform.readDir(root)).includes("ca-ec-p256") ? `${root}/ca-ec-p256` : await caDir("ec-p256");
  const ca = await loadLocalCa(dir);
  const keys = await generateKeyPair("ec-p256");
  const signed = await localCaSigner(ca, "shop", "cart", systemClock)(await createCsrPem(keys, SpiffeId.forWorkload("mesh.example", "kube-system", "admin")), undefined);
  const chain = certificatesFromPemText(signed.certChainPem);
  const id = await verifySvid(chain, { trustDomain: "mesh.example", roots: certificatesFromPemText(signed.rootCertPem) }, { clock: systemClock });
  assert.is(id.toString(), ID.toString(), "the CA's choice, not the CSR's hint");
  assert.equal(signed.rootCertPem, await platform.readTextFile(`${dir}/root-cert.pem`));

  const expectCode = async (promise: Promise<unknown>, code: string, message: RegExp) => {
    try {
      await promise;
      assert.unreachable(`expected ${code}`);
    } catch (error) {
      assert.instance(error, SecurityError);
      assert.is((error as SecurityError).code, code);
      assert.match((error as Error).message, message);
    }
  };
  const csrPem = await createCsrPem(keys);
  const b64 = csrPem.replace(/-----[A-Z ]+-----|\s/g, "");
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  der[der.length - 4] ^= 1;
  const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${btoa(String.fromCharCode(...der))}\n-----END CERTIFICATE REQUEST-----\n`;
  await expectCode(issueFromCsr(ca, { csrPem: broken, spiffeId: ID, clock: systemClock }), "csr-invalid", /does not verify/);
  await expectCode(issueFromCsr(ca, { csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n-----END CERTIFICATE REQUEST-----\n", spiffeId: ID, clock: systemClock }), "csr-invalid", /not a PKCS#10/);
  await expectCode(issueFromCsr(ca, { csrPem, spiffeId: ID, clock: createFakeClock(ca.certificate.notAfter.getTime() + 1) }), "ca-expired", /CA certificate is valid/);
  await expectCode(issueFromCsr(ca, { csrPem, spiffeId: SpiffeId.forWorkload("other.example", "a", "b"), clock: systemClock }), "svid-invalid", /not in this CA's trust domain/);
  const p384 = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, true, ["sign", "verify"])) as CryptoKeyPair;
  await expectCode(issueFromCsr(ca, { csrPem: await createCsrPemAnyCurve(p384), spiffeId: ID, clock: systemClock }), "key-unsupported", /ECDSA P-521 is not accepted/);
});

/** createCsrPem signs with SHA-256 whatever the curve; that is enough for a P-521 key's CSR */
function createCsrPemAnyCurve(keys: CryptoKeyPair): Promise<string> {
  return createCsrPem(keys);
}

test("a directory that is not a CA: loadCaDir's error, word for word", async () => {
  for (const dir of [`${root}/nowhere`, root]) {
    const expected = await loadCaDir(dir).then(() => undefined, (e: SecurityError) => e);
    const actual = await loadLocalCa(dir).then(() => undefined, (e: SecurityError) => e);
    assert.ok(expected && actual);
    assert.is(actual!.code, expected!.code);
    assert.is(actual!.message, expected!.message);
  }
});

test.after(() => platform.remove(root));
test.run();
