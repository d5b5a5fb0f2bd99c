// Verifying SVIDs as a peer would (chain, time window on an injected clock, leaf rules), and the
// SPIFFE bundle format that carries the roots.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRootCa, issueSvid, BACKDATE_MS } from "../../runtime/security/ca.ts";
import { trustBundleJson, parseTrustBundleJson } from "../../runtime/security/bundle.ts";
import { generateKeyPair, signingAlgorithm } from "../../runtime/security/keys.ts";
import { certificatesToPem, fromBase64 } from "../../runtime/security/pem.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { verifySvid, type TrustBundle } from "../../runtime/security/verify.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const START = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const ID = SpiffeId.forWorkload("cluster.local", "default", "sleep");

async function setup() {
  const clock = createFakeClock(START);
  const ca = await createRootCa({ trustDomain: "cluster.local", clock });
  const keys = await generateKeyPair();
  const leaf = await issueSvid(ca, { spiffeId: ID, publicKey: keys.publicKey, clock });
  const bundle: TrustBundle = { trustDomain: "cluster.local", roots: [ca.certificate] };
  return { clock, ca, keys, leaf, bundle };
}

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

test("a fresh SVID verifies to its SpiffeId, from objects or PEM", async () => {
  const { clock, leaf, bundle } = await setup();
  const id = await verifySvid([leaf], bundle, { clock, purpose: "clientAuth" });
  assert.ok(id instanceof SpiffeId && id.equals(ID));
  assert.ok((await verifySvid(certificatesToPem([leaf]), bundle, { clock, purpose: "serverAuth" })).equals(ID));
});

test("validity window on the injected clock: back-dated start, hard end", async () => {
  const { clock, leaf, bundle } = await setup();
  const at = (ms: number) => ({ clock: { now: () => ms } });
  assert.is(await code(verifySvid([leaf], bundle, at(START - BACKDATE_MS + 1000))), undefined, "skewed peer accepts");
  assert.is(await code(verifySvid([leaf], bundle, at(START - BACKDATE_MS - 1000))), "cert-expired", "before notBefore");
  clock.advance(24 * HOUR);
  assert.is(await code(verifySvid([leaf], bundle, { clock })), undefined, "last second still valid");
  clock.advance(1001);
  assert.is(await code(verifySvid([leaf], bundle, { clock })), "cert-expired");
});

test("another CA's SVID, or another trust domain's bundle, is untrusted", async () => {
  const { clock, leaf, bundle } = await setup();
  const other = await createRootCa({ trustDomain: "cluster.local", clock });
  assert.is(await code(verifySvid([leaf], { trustDomain: "cluster.local", roots: [other.certificate] }, { clock })), "chain-untrusted");
  assert.is(await code(verifySvid([leaf], { ...bundle, trustDomain: "example.org" }, { clock })), "chain-untrusted");
  assert.is(await code(verifySvid([], bundle, { clock })), "svid-invalid");
});

test("leaf rules: a CA certificate, two URI SANs, no SAN, wrong EKU are not SVIDs", async () => {
  const { clock, ca, keys, bundle } = await setup();
  assert.is(await code(verifySvid([ca.certificate], bundle, { clock })), "svid-invalid", "the root itself");
  const make = (extensions: InstanceType<typeof x509.Extension>[]) =>
    x509.X509CertificateGenerator.create({
      subject: "", issuer: ca.certificate.subjectName, publicKey: keys.publicKey, signingKey: ca.privateKey,
      signingAlgorithm: signingAlgorithm(ca.privateKey), notBefore: new Date(START - 1000), notAfter: new Date(START + HOUR), extensions,
    });
  const ku = new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true);
  const two = await make([ku, new x509.SubjectAlternativeNameExtension([{ type: "url", value: ID.toString() }, { type: "url", value: "spiffe://cluster.local/x" }], true)]);
  assert.is(await code(verifySvid([two], bundle, { clock })), "svid-invalid");
  assert.is(await code(verifySvid([await make([ku])], bundle, { clock })), "svid-invalid");
  const san = new x509.SubjectAlternativeNameExtension([{ type: "url", value: ID.toString() }], true);
  const serverOnly = await make([ku, san, new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])]);
  assert.is(await code(verifySvid([serverOnly], bundle, { clock, purpose: "serverAuth" })), undefined);
  assert.is(await code(verifySvid([serverOnly], bundle, { clock, purpose: "clientAuth" })), "svid-invalid");
  const signer = await make([san, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true)]);
  assert.is(await code(verifySvid([signer], bundle, { clock })), "svid-invalid");
});

test("a chain through an intermediate CA verifies; a missing intermediate does not", async () => {
  const { clock, ca, bundle } = await setup();
  const midKeys = await generateKeyPair();
  const mid = await x509.X509CertificateGenerator.create({
    subject: "O=dietmesh, CN=intermediate", issuer: ca.certificate.subjectName, publicKey: midKeys.publicKey, signingKey: ca.privateKey,
    signingAlgorithm: signingAlgorithm(ca.privateKey), notBefore: new Date(START - 1000), notAfter: new Date(START + 48 * HOUR),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const leafKeys = await generateKeyPair();
  const leaf = await issueSvid({ trustDomain: "cluster.local", certificate: mid, privateKey: midKeys.privateKey }, { spiffeId: ID, publicKey: leafKeys.publicKey, clock });
  assert.ok((await verifySvid([leaf, mid], bundle, { clock })).equals(ID));
  assert.is(await code(verifySvid([leaf], bundle, { clock })), "chain-untrusted");
});

test("SPIFFE bundle: JWK set with use x509-svid, x5c, sequence and refresh hint; round trip", async () => {
  const { clock, leaf, ca } = await setup();
  const rsa = await createRootCa({ trustDomain: "cluster.local", keyType: "rsa-2048", clock });
  const doc = await trustBundleJson([ca.certificate, rsa.certificate], { sequence: 7 });
  assert.is(doc.spiffe_sequence, 7);
  assert.is(doc.spiffe_refresh_hint, 300);
  assert.is(doc.keys.length, 2);
  const [ec, rs] = doc.keys;
  assert.equal([ec.kty, ec.use, ec.crv, typeof ec.x, typeof ec.y], ["EC", "x509-svid", "P-256", "string", "string"]);
  assert.equal([rs.kty, rs.use, typeof rs.n, rs.e], ["RSA", "x509-svid", "string", "AQAB"]);
  assert.not.ok("d" in ec || "key_ops" in ec || "ext" in ec, "public parameters only");
  assert.equal(fromBase64(ec.x5c[0]), new Uint8Array(ca.certificate.rawData));
  const back = parseTrustBundleJson(JSON.stringify(doc), "cluster.local");
  assert.is(back.roots.length, 2);
  assert.ok((await verifySvid([leaf], back, { clock })).equals(ID));
  const withJwt = { keys: [{ kty: "EC", use: "jwt-svid", kid: "k" }, ...doc.keys] };
  assert.is(parseTrustBundleJson(withJwt as never, "cluster.local").roots.length, 2, "jwt-svid keys skipped");
  assert.throws(() => parseTrustBundleJson({ keys: [{ ...ec, x5c: [] }] } as never, "cluster.local"), /exactly one x5c/);
  assert.throws(() => parseTrustBundleJson("{", "cluster.local"), /not JSON/);
});

test.run();
