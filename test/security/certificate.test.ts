// certificate.ts and createCsrPem against @peculiar/x509 (what the CA side uses, and what the
// proxy used before): certificates made by openssl (RSA root with name constraints and a
// multi-valued RDN, EC P-384 leaf with every SAN kind, an unknown critical extension, UTF-8 names,
// a GeneralizedTime) and by our CA (EC and RSA) are parsed by both and every field compared; the
// signature checks must agree, on good and on tampered certificates; our CSRs are accepted by the
// library, by our CA and by openssl.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCertificateDer, certificatesFromPemText, spkiKind, type Certificate } from "../../runtime/security/certificate.ts";
import { createCsrPem, generateKeyPair, type KeyType } from "../../runtime/security/keys.ts";
import { createRootCa, issueSvid, issueSvidFromCsr } from "../../runtime/security/ca.ts";
import { SecurityError } from "../../runtime/security/errors.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import type { X509Certificate } from "@peculiar/x509";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";

const dir = await platform.makeTempDir("dietmesh-certificate-");

async function openssl(args: string[]): Promise<string> {
  const child = runCommand("openssl", args);
  const code = await child.exited;
  assert.is(code, 0, `openssl ${args.join(" ")}: ${child.lines.join("\n")}`);
  return child.lines.join("\n");
}

const CONFIG = `[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;URI:.example.org,permitted;DNS:example.org,excluded;DNS:bad.example.org
subjectKeyIdentifier = hash
[leaf]
subjectAltName = critical,URI:spiffe://example.org/ns/a/sa/b,DNS:svc.example.org,IP:10.0.0.1,email:ops@example.org
extendedKeyUsage = serverAuth
keyUsage = critical,digitalSignature,keyEncipherment
1.2.3.4 = critical,ASN1:UTF8String:not understood
`;

/** [root, leaf] made by openssl: RSA root signing an EC P-384 leaf with SHA-384 */
async function opensslPair(): Promise<{ root: string; leaf: string }> {
  await platform.writeTextFile(`${dir}/ext.cnf`, CONFIG);
  const cnf = ["-config", `${dir}/ext.cnf`];
  await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${dir}/root.key`, "-out", `${dir}/root.pem`, "-days", "3650", "-multivalue-rdn", "-subj", "/C=US/ST=Some State/O=Acme, Inc./OU=Mesh+CN=multi/emailAddress=ca@example.org", "-extensions", "root", ...cnf]);
  await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", `${dir}/leaf.key`, "-out", `${dir}/leaf.csr`, "-utf8", "-subj", "/CN=Grüße, \"quoted\"/O=ü", ...cnf]);
  // 12000 days: past 2049, so notAfter is a GeneralizedTime
  await openssl(["x509", "-req", "-in", `${dir}/leaf.csr`, "-CA", `${dir}/root.pem`, "-CAkey", `${dir}/root.key`, "-CAcreateserial", "-out", `${dir}/leaf.pem`, "-days", "12000", "-sha384", "-extfile", `${dir}/ext.cnf`, "-extensions", "leaf"]);
  return { root: await platform.readTextFile(`${dir}/root.pem`), leaf: await platform.readTextFile(`${dir}/leaf.pem`) };
}

const bytes = (b: ArrayBuffer | Uint8Array) => [...(b instanceof Uint8Array ? b : new Uint8Array(b))];

/** every field the proxy reads, from both parsers */
function compare(ours: Certificate, lib: X509Certificate, what: string): void {
  assert.is(ours.serialNumber, lib.serialNumber, `${what}: serial`);
  assert.is(ours.subject, lib.subject, `${what}: subject`);
  assert.is(ours.issuer, lib.issuer, `${what}: issuer`);
  assert.is(ours.notBefore.getTime(), lib.notBefore.getTime(), `${what}: notBefore`);
  assert.is(ours.notAfter.getTime(), lib.notAfter.getTime(), `${what}: notAfter`);
  assert.equal(bytes(ours.publicKey), bytes(lib.publicKey.rawData), `${what}: public key`);
  assert.equal(
    ours.extensions.map((e) => [e.type, e.critical, bytes(e.value)]),
    // the library's Extensions is an Array subclass: copied so only the contents are compared
    [...lib.extensions].map((e) => [e.type, e.critical, bytes(e.value)]),
    `${what}: extensions`,
  );
  const san = lib.getExtension(x509.SubjectAlternativeNameExtension);
  assert.equal(ours.subjectAltNames.map((n) => [n.type, n.value]), san ? [...san.names.items].map((n) => [n.type, n.value]) : [], `${what}: SANs`);
  const bc = lib.getExtension(x509.BasicConstraintsExtension);
  assert.equal(ours.basicConstraints, bc ? (bc.pathLength === undefined ? { ca: bc.ca } : { ca: bc.ca, pathLength: bc.pathLength }) : undefined, `${what}: basic constraints`);
  assert.is(ours.keyUsage, lib.getExtension(x509.KeyUsagesExtension)?.usages, `${what}: key usage`);
  const eku = lib.getExtension(x509.ExtendedKeyUsageExtension);
  assert.equal(ours.extendedKeyUsage, eku ? [...(eku.usages as string[])] : undefined, `${what}: EKU`);
}

async function signaturesAgree(child: Certificate, libChild: X509Certificate, issuer: Certificate, libIssuer: X509Certificate): Promise<boolean> {
  const ours = await child.verifiedBy(issuer);
  const theirs = await libChild.verify({ publicKey: libIssuer.publicKey, signatureOnly: true }).catch(() => false);
  assert.is(ours, theirs, "both verifiers agree");
  return ours;
}

/** the same DER with one byte of the signature flipped */
function tampered(der: ArrayBuffer): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(der.slice(0));
  copy[copy.length - 5] ^= 0x01;
  return copy;
}

test("openssl-made RSA root and EC P-384 leaf: every field as @peculiar/x509 reads it", async () => {
  const pem = await opensslPair();
  const [root] = certificatesFromPemText(pem.root);
  const [leaf] = certificatesFromPemText(pem.leaf);
  const libRoot = new x509.X509Certificate(pem.root);
  const libLeaf = new x509.X509Certificate(pem.leaf);
  compare(root, libRoot, "root");
  compare(leaf, libLeaf, "leaf");
  // what the comparison covered, so a field both parsers drop cannot pass unnoticed
  assert.is(root.subject, 'C=US, ST=Some State, O=Acme\\, Inc., OU=Mesh+CN=multi, E=ca@example.org');
  assert.is(leaf.subject, 'CN=Grüße\\, \\"quoted\\", O=ü');
  assert.equal(root.basicConstraints, { ca: true, pathLength: 1 });
  assert.ok(root.extension("2.5.29.30")?.critical, "name constraints, critical");
  assert.equal(leaf.subjectAltNames.map((n) => n.type), ["url", "dns", "ip", "email"]);
  assert.is(leaf.subjectAltNames[2].value, "10.0.0.1");
  assert.ok(leaf.extension("1.2.3.4")?.critical, "the unknown extension keeps its critical flag");
  assert.is(leaf.notAfter.getUTCFullYear() > 2049, true, "GeneralizedTime read");
  assert.equal(spkiKind(leaf.publicKey), { kind: "ec", namedCurve: "P-384", width: 48 });
  assert.equal(spkiKind(root.publicKey), { kind: "rsa", bits: 2048 });
  assert.ok(await signaturesAgree(leaf, libLeaf, root, libRoot), "RSA SHA-384 signature verifies");
  assert.ok(await signaturesAgree(root, libRoot, root, libRoot), "self-signature verifies");
  assert.not.ok(await signaturesAgree(root, libRoot, leaf, libLeaf), "the leaf's key did not sign the root");
  const bad = tampered(libLeaf.rawData);
  assert.not.ok(await signaturesAgree(parseCertificateDer(bad), new x509.X509Certificate(bad), root, libRoot), "a flipped signature byte fails both");
});

for (const keyType of ["ec-p256", "rsa-2048"] as KeyType[]) {
  test(`${keyType} CA: root and an SVID with DNS and IP names, as @peculiar/x509 reads them`, async () => {
    const clock = createFakeClock(Date.UTC(2031, 5, 1));
    const ca = await createRootCa({ trustDomain: "cluster.local", keyType, clock });
    const keys = await generateKeyPair("ec-p256");
    const leaf = await issueSvid(ca, { spiffeId: SpiffeId.forWorkload("cluster.local", "ns", "sa"), publicKey: keys.publicKey, clock, serverNames: ["ca.example", "127.0.0.1"] });
    const ours = { root: parseCertificateDer(ca.certificate.rawData), leaf: parseCertificateDer(leaf.rawData) };
    compare(ours.root, ca.certificate, "root");
    compare(ours.leaf, leaf, "leaf");
    assert.equal(ours.leaf.subjectAltNames, [{ type: "url", value: "spiffe://cluster.local/ns/ns/sa/sa" }, { type: "dns", value: "ca.example" }, { type: "ip", value: "127.0.0.1" }]);
    assert.ok(await signaturesAgree(ours.leaf, leaf, ours.root, ca.certificate));
    const bad = tampered(leaf.rawData);
    assert.not.ok(await signaturesAgree(parseCertificateDer(bad), new x509.X509Certificate(bad), ours.root, ca.certificate));
  });
}

for (const keyType of ["ec-p256", "rsa-2048"] as KeyType[]) {
  test(`createCsrPem (${keyType} key): the library verifies it, our CA signs it, openssl accepts it`, async () => {
    const keys = await generateKeyPair(keyType);
    const id = SpiffeId.forWorkload("cluster.local", "default", "sleep");
    const pem = await createCsrPem(keys, id);
    const csr = new x509.Pkcs10CertificateRequest(pem);
    assert.ok(await csr.verify(), "self-signature");
    assert.is(csr.subject, "");
    assert.equal(bytes(csr.publicKey.rawData), bytes(await crypto.subtle.exportKey("spki", keys.publicKey)));
    const sanRaw = csr.extensions.find((e) => e.type === "2.5.29.17");
    assert.ok(sanRaw, "the SAN hint is in the extension request");
    assert.equal(new x509.SubjectAlternativeNameExtension(sanRaw!.rawData).names.items.map((n) => [n.type, n.value]), [["url", id.toString()]]);
    const plain = new x509.Pkcs10CertificateRequest(await createCsrPem(keys));
    assert.ok(await plain.verify());
    assert.is(plain.extensions.length, 0, "no hint, no extension request");
    const clock = createFakeClock(Date.UTC(2031, 5, 1));
    const ca = await createRootCa({ trustDomain: "cluster.local", clock });
    const leaf = await issueSvidFromCsr(ca, { csr: pem, spiffeId: id, clock });
    assert.equal(bytes(leaf.publicKey.rawData), bytes(await crypto.subtle.exportKey("spki", keys.publicKey)));
    await platform.writeTextFile(`${dir}/ours-${keyType}.csr`, pem);
    assert.match(await openssl(["req", "-in", `${dir}/ours-${keyType}.csr`, "-noout", "-verify"]), /verif(y|ication) OK|self-signature ok/i);
  });
}

test("unreadable DER is pem-invalid, as pem.ts's parseCertificate says", async () => {
  const ca = await createRootCa({ trustDomain: "cluster.local", clock: createFakeClock(Date.UTC(2031, 5, 1)) });
  const der = new Uint8Array(ca.certificate.rawData);
  assert.is(parseCertificateDer(der).subject, ca.certificate.subject, "the intact one parses");
  for (const broken of [der.subarray(0, der.length - 1), new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), new Uint8Array(0)]) {
    try {
      parseCertificateDer(broken);
      assert.unreachable("parsed a broken certificate");
    } catch (error) {
      assert.instance(error, SecurityError);
      assert.is((error as SecurityError).code, "pem-invalid");
    }
  }
});

test.after(() => platform.remove(dir));
test.run();
