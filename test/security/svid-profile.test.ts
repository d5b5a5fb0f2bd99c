// Every X.509-SVID rule, checked by parsing issued certificates back, for EC and RSA CAs and keys;
// and the root's profile. What is checked here is what peers and `openssl -x509_strict` insist on.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRootCa, issueSvid, issueSvidFromCsr, BACKDATE_MS, ROOT_LIFETIME_MS } from "../../runtime/security/ca.ts";
import { createCsr, generateKeyPair, type KeyType } from "../../runtime/security/keys.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import type { X509Certificate } from "@peculiar/x509";

// half a second past the minute, so the whole-second rounding is exercised
const START = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
const ID = SpiffeId.forWorkload("cluster.local", "default", "sleep");
const KU = x509.KeyUsageFlags;

function ext<T>(cert: X509Certificate, type: new (raw: BufferSource) => T): T {
  const found = cert.getExtension(type as never) as T | null;
  assert.ok(found, `missing ${type.name}`);
  return found!;
}

function assertSvidProfile(leaf: X509Certificate, root: X509Certificate, now: number, rsaKey: boolean): void {
  const san = ext(leaf, x509.SubjectAlternativeNameExtension);
  assert.equal(san.names.items.map((n) => [n.type, n.value]), [["url", ID.toString()]], "exactly one URI SAN, the CA's choice");
  assert.is(leaf.subject, "", "empty subject");
  assert.ok(san.critical, "SAN is critical because the subject is empty");
  const bc = ext(leaf, x509.BasicConstraintsExtension);
  assert.is(bc.ca, false);
  assert.ok(bc.critical);
  const ku = ext(leaf, x509.KeyUsagesExtension);
  assert.ok(ku.critical, "key usage critical");
  assert.ok(ku.usages & KU.digitalSignature, "digitalSignature");
  assert.is(ku.usages & (KU.keyCertSign | KU.cRLSign), 0, "never keyCertSign/cRLSign");
  assert.is(Boolean(ku.usages & KU.keyEncipherment), rsaKey, "keyEncipherment only for RSA keys");
  const eku = ext(leaf, x509.ExtendedKeyUsageExtension);
  assert.ok(eku.usages.includes(x509.ExtendedKeyUsage.serverAuth) && eku.usages.includes(x509.ExtendedKeyUsage.clientAuth));
  assert.ok(ext(leaf, x509.SubjectKeyIdentifierExtension).keyId.length > 0);
  assert.is(ext(leaf, x509.AuthorityKeyIdentifierExtension).keyId, ext(root, x509.SubjectKeyIdentifierExtension).keyId, "AKI = issuer SKI");
  assert.ok(/^[0-7][0-9a-f]+$/.test(leaf.serialNumber) && leaf.serialNumber.length <= 40, `serial ${leaf.serialNumber}`);
  assert.is.not(leaf.serialNumber.slice(0, 2), "00", "minimal DER, positive");
  assert.is(leaf.notBefore.getTime(), Math.floor((now - BACKDATE_MS) / 1000) * 1000, "back-dated 5 min");
  assert.ok(leaf.notAfter.getTime() <= root.notAfter.getTime(), "never outlives the issuer");
  assert.is(leaf.issuer, root.subject);
}

const combos: [KeyType, KeyType][] = [["ec-p256", "ec-p256"], ["ec-p256", "rsa-2048"], ["rsa-2048", "ec-p256"], ["rsa-2048", "rsa-2048"]];

for (const [caType, workloadType] of combos) {
  test(`${caType} CA, ${workloadType} workload key: every SVID rule holds`, async () => {
    const clock = createFakeClock(START);
    const ca = await createRootCa({ trustDomain: "cluster.local", keyType: caType, clock });
    clock.advance(3_600_000); // an hour later, so back-dating is not clamped by the root's start
    const keys = await generateKeyPair(workloadType);
    const leaf = await issueSvidFromCsr(ca, { csr: (await createCsr(keys)).toString("pem"), spiffeId: ID, clock });
    assertSvidProfile(leaf, ca.certificate, clock.now(), workloadType === "rsa-2048");
    assert.is(leaf.notAfter.getTime(), Math.floor((clock.now() + 24 * 3_600_000) / 1000) * 1000, "default TTL 24 h");
    assert.ok(await leaf.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }));
  });
}

test("root: cA, keyCertSign+cRLSign critical, SKI, AKI, subject, 10 years", async () => {
  for (const keyType of ["ec-p256", "rsa-2048"] as const) {
    const clock = createFakeClock(START);
    const { certificate: root } = await createRootCa({ trustDomain: "example.org", keyType, clock });
    assert.is(root.subject, "O=dietmesh, CN=example.org root");
    const bc = ext(root, x509.BasicConstraintsExtension);
    assert.ok(bc.ca && bc.critical);
    const ku = ext(root, x509.KeyUsagesExtension);
    assert.ok(ku.critical);
    assert.is(ku.usages, KU.keyCertSign | KU.cRLSign);
    assert.is(ext(root, x509.AuthorityKeyIdentifierExtension).keyId, ext(root, x509.SubjectKeyIdentifierExtension).keyId);
    assert.is(root.notAfter.getTime() - root.notBefore.getTime(), ROOT_LIFETIME_MS + BACKDATE_MS);
    assert.ok(await root.isSelfSigned());
  }
});

test("notAfter is cut to the issuer's, notBefore never precedes the issuer's", async () => {
  const clock = createFakeClock(START);
  const ca = await createRootCa({ trustDomain: "cluster.local", clock, lifetimeMs: 3_600_000 });
  const keys = await generateKeyPair();
  const leaf = await issueSvid(ca, { spiffeId: ID, publicKey: keys.publicKey, clock, ttlMs: 24 * 3_600_000 });
  assert.is(leaf.notAfter.getTime(), ca.certificate.notAfter.getTime());
  assert.ok(leaf.notBefore.getTime() >= ca.certificate.notBefore.getTime());
  clock.advance(2 * 3_600_000);
  try {
    await issueSvid(ca, { spiffeId: ID, publicKey: keys.publicKey, clock });
    assert.unreachable("an expired CA signed");
  } catch (e) {
    assert.is((e as { code?: string }).code, "ca-expired");
  }
});

test("the CSR's own SANs and subject are ignored; only its key is used", async () => {
  const clock = createFakeClock(START);
  const ca = await createRootCa({ trustDomain: "cluster.local", clock });
  const keys = await generateKeyPair();
  const csr = await createCsr(keys, SpiffeId.forWorkload("cluster.local", "kube-system", "admin"));
  const leaf = await issueSvidFromCsr(ca, { csr, spiffeId: ID, clock });
  const uris = ext(leaf, x509.SubjectAlternativeNameExtension).names.items.map((n) => n.value);
  assert.equal(uris, [ID.toString()]);
  assert.equal(new Uint8Array(leaf.publicKey.rawData), new Uint8Array(csr.publicKey.rawData));
});

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

test("refused: tampered or garbage CSR, foreign trust domain, bare trust domain, odd keys", async () => {
  const clock = createFakeClock(START);
  const ca = await createRootCa({ trustDomain: "cluster.local", clock });
  const keys = await generateKeyPair();
  const der = new Uint8Array((await createCsr(keys)).rawData);
  der[der.length - 1] ^= 0x01; // breaks the self-signature
  assert.is(await code(issueSvidFromCsr(ca, { csr: der, spiffeId: ID, clock })), "csr-invalid");
  assert.is(await code(issueSvidFromCsr(ca, { csr: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), spiffeId: ID, clock })), "csr-invalid");
  assert.is(await code(issueSvidFromCsr(ca, { csr: "no pem here", spiffeId: ID, clock })), "pem-invalid");
  const foreign = SpiffeId.forWorkload("example.org", "default", "sleep");
  assert.is(await code(issueSvid(ca, { spiffeId: foreign, publicKey: keys.publicKey, clock })), "svid-invalid");
  assert.is(await code(issueSvid(ca, { spiffeId: SpiffeId.forTrustDomain("cluster.local"), publicKey: keys.publicKey, clock })), "svid-invalid");
  const p384 = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, ["sign", "verify"])) as CryptoKeyPair;
  assert.is(await code(issueSvid(ca, { spiffeId: ID, publicKey: p384.publicKey, clock })), undefined, "P-384 is accepted");
  const weakRsa = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
  assert.is(await code(issueSvid(ca, { spiffeId: ID, publicKey: (weakRsa as CryptoKeyPair).publicKey, clock })), "key-unsupported");
});

test("serial numbers differ between certificates", async () => {
  const clock = createFakeClock(START);
  const ca = await createRootCa({ trustDomain: "cluster.local", clock });
  const keys = await generateKeyPair();
  const serials = new Set<string>();
  for (let i = 0; i < 5; i++) serials.add((await issueSvid(ca, { spiffeId: ID, publicKey: keys.publicKey, clock })).serialNumber);
  assert.is(serials.size, 5);
});

test.run();
