// Unit tests of the gateway's client-certificate check (client-certificates.ts) and of the XFCC
// value it describes a client with (edge-xfcc.ts), on certificates made by openssl here: chain to
// caCertificates, validity on a fake clock, EKU, subjectAltNames (exact, a "*." SAN covering one
// label), hash and SPKI pins as one allow-list, and Subject in RFC 2253 order.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { must } from "../support/mesh.ts";
import { clientCertificateVerifier, isCertificateHash, isSpkiHash, normalizeHash } from "../../runtime/security/client-certificates.ts";
import { edgeXfccValue, rfc2253 } from "../../runtime/security/edge-xfcc.ts";
import { pemDecode } from "../../runtime/security/pem-codec.ts";

let work: string;
const der: Record<string, Uint8Array> = {};
let caPem: string;
const now = { now: () => Date.now() };

const sh = (script: string) => must("sh", ["-c", script]);

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-client-certs-");
  await sh(`cd ${work} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca -keyout ca.key -out ca.crt 2>/dev/null && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca -keyout other.key -out other.crt 2>/dev/null`);
  const leaf = async (name: string, ca: string, subject: string, ext: string) => {
    await sh(`cd ${work} && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '${subject}' -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf '${ext}' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
    der[name] = pemDecode(await platform.readTextFile(`${work}/${name}.crt`), "CERTIFICATE");
  };
  await leaf("alice", "ca", "/O=Acme, Inc/CN=alice", "subjectAltName=DNS:alice.example,URI:spiffe://example.org/alice,email:a@example.org\\nextendedKeyUsage=clientAuth\\n");
  await leaf("wild", "ca", "/CN=wild", "subjectAltName=DNS:*.clients.example\\n");
  await leaf("server", "ca", "/CN=server", "subjectAltName=DNS:server.example\\nextendedKeyUsage=serverAuth\\n");
  await leaf("stranger", "other", "/CN=alice", "subjectAltName=DNS:alice.example\\n");
  caPem = await platform.readTextFile(`${work}/ca.crt`);
});

test.after(() => platform.remove(work));

const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

test("chain: signed by caCertificates is accepted; another CA with the same name, or a serverAuth-only EKU, is refused", async () => {
  const check = clientCertificateVerifier({ caPem }, now);
  assert.is(await check(der.alice), null);
  assert.match((await check(der.stranger)) ?? "", /not signed by a certificate of caCertificates/);
  assert.match((await check(der.server)) ?? "", /does not allow clientAuth/);
});

test("validity is judged on the clock given", async () => {
  const check = clientCertificateVerifier({ caPem }, { now: () => Date.now() + 3 * 86_400_000 });
  assert.match((await check(der.alice)) ?? "", /is valid/);
});

test("subjectAltNames: any SAN type, exact; a *. DNS SAN covers exactly one label", async () => {
  const uri = clientCertificateVerifier({ caPem, subjectAltNames: ["spiffe://example.org/alice"] }, now);
  assert.is(await uri(der.alice), null);
  const email = clientCertificateVerifier({ caPem, subjectAltNames: ["a@example.org"] }, now);
  assert.is(await email(der.alice), null);
  const none = clientCertificateVerifier({ caPem, subjectAltNames: ["bob.example"] }, now);
  assert.match((await none(der.alice)) ?? "", /no subject alternative name/);
  const oneLabel = clientCertificateVerifier({ caPem, subjectAltNames: ["a.clients.example"] }, now);
  assert.is(await oneLabel(der.wild), null);
  const twoLabels = clientCertificateVerifier({ caPem, subjectAltNames: ["a.b.clients.example"] }, now);
  assert.ok(await twoLabels(der.wild));
});

test("verifyCertificateHash and verifyCertificateSpki are one allow-list", async () => {
  const aliceHash = hex(await sha256(der.alice));
  const colon = aliceHash.toUpperCase().match(/../g)!.join(":");
  assert.ok(isCertificateHash(colon) && isCertificateHash(aliceHash) && !isCertificateHash("abc"));
  assert.is(normalizeHash(colon), aliceHash);
  const byHash = clientCertificateVerifier({ caPem, verifyCertificateHash: [colon] }, now);
  assert.is(await byHash(der.alice), null);
  assert.match((await byHash(der.wild)) ?? "", /matches neither/);
  const spki = (await sh(`openssl x509 -in ${work}/wild.crt -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64`)).trim();
  assert.ok(isSpkiHash(spki) && !isSpkiHash("short="));
  const either = clientCertificateVerifier({ caPem, verifyCertificateHash: [colon], verifyCertificateSpki: [spki] }, now);
  assert.is(await either(der.alice), null, "by hash");
  assert.is(await either(der.wild), null, "by SPKI");
  assert.ok(await either(der.server), "neither (and serverAuth only)");
});

test("a CA file without a CA certificate is refused when the server is built", () => {
  assert.throws(() => clientCertificateVerifier({ caPem: "" }, now));
});

test("XFCC: By only with a local URI, Hash, Cert URL-encoded, Subject in RFC 2253 order, every URI and DNS SAN", async () => {
  const value = await edgeXfccValue({ uris: [], der: der.alice });
  const hash = hex(await sha256(der.alice));
  const pem = encodeURIComponent((await platform.readTextFile(`${work}/alice.crt`)).trim() + "\n");
  assert.is(value, `Hash=${hash};Cert="${pem}";Subject="CN=alice,O=Acme\\, Inc";URI=spiffe://example.org/alice;DNS=alice.example`);
  const wild = await edgeXfccValue({ uris: [], der: der.wild, localUri: "spiffe://cluster.local/ns/istio-system/sa/gw" });
  assert.match(wild, /^By=spiffe:\/\/cluster\.local\/ns\/istio-system\/sa\/gw;Hash=[0-9a-f]{64};Cert="[^"]+";Subject="CN=wild";URI=;DNS=\*\.clients\.example$/);
  assert.is(rfc2253("C=DE, O=a\\, b, CN=x"), "CN=x,O=a\\, b,C=DE");
});

test.run();
