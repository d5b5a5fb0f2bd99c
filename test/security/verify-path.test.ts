// The path rules of the X.509 verifier (issue 15 item 11b; verify.ts is the only client-certificate
// check on Deno): pathLenConstraint, name constraints against the leaf's SPIFFE ID, and unknown
// critical extensions — chains built with @peculiar/x509: root → intermediate → leaf.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateKeyPair, signingAlgorithm } from "../../runtime/security/keys.ts";
import { verifySvid } from "../../runtime/security/verify.ts";
import { nameConstraintsProblem, parseNameConstraints } from "../../runtime/security/name-constraints.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import type { Extension, X509Certificate } from "@peculiar/x509";

const NOW = Date.UTC(2030, 0, 1);
const clock = { now: () => NOW };
const window = { notBefore: new Date(NOW - 3_600_000), notAfter: new Date(NOW + 3_600_000) };
const ID = "spiffe://cluster.local/ns/default/sa/sleep";
let serial = 1;

/** DER: one TLV (short or long length) */
function tlv(tag: number, body: Uint8Array | string): Uint8Array<ArrayBuffer> {
  const b = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const len = b.length < 128 ? [b.length] : [0x82, b.length >> 8, b.length & 0xff];
  return new Uint8Array([tag, ...len, ...b]);
}
const seq = (...parts: Uint8Array[]) => tlv(0x30, new Uint8Array(parts.flatMap((p) => [...p])));
/** NameConstraints with URI ([6]) subtrees, or any GeneralName given as its DER */
function nameConstraints(permitted: Uint8Array[], excluded: Uint8Array[] = []): Extension {
  const part = (tag: number, names: Uint8Array[]) => (names.length ? [tlv(tag, new Uint8Array(names.flatMap((n) => [...seq(n)])))] : []);
  return new x509.Extension("2.5.29.30", true, seq(...part(0xa0, permitted), ...part(0xa1, excluded)));
}
const uri = (host: string) => tlv(0x86, host);
const directoryName = tlv(0xa4, seq()); // an empty Name: a kind of constraint not evaluated here

type Keys = CryptoKeyPair;
interface Ca { cert: X509Certificate; keys: Keys }

async function root(extra: Extension[] = [], pathLength?: number): Promise<Ca> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `0${serial++}`, name: "CN=root", ...window, keys, signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: [new x509.BasicConstraintsExtension(true, pathLength, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), ...extra],
  });
  return { cert, keys };
}

async function intermediate(issuer: Ca, name: string, extra: Extension[] = [], pathLength?: number): Promise<Ca> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: `0${serial++}`, subject: `CN=${name}`, issuer: issuer.cert.subjectName, ...window, publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey, signingAlgorithm: signingAlgorithm(issuer.keys.privateKey),
    extensions: [new x509.BasicConstraintsExtension(true, pathLength, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true), ...extra],
  });
  return { cert, keys };
}

async function leaf(issuer: Ca, extra: Extension[] = [], id = ID): Promise<X509Certificate> {
  const keys = await generateKeyPair();
  return x509.X509CertificateGenerator.create({
    serialNumber: `0${serial++}`, subject: "", issuer: issuer.cert.subjectName, ...window, publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey, signingAlgorithm: signingAlgorithm(issuer.keys.privateKey),
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: id }], true),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...extra,
    ],
  });
}

/** undefined when the chain verifies, else the refusal's message */
async function verdict(chain: X509Certificate[], r: Ca): Promise<string | undefined> {
  try {
    await verifySvid(chain, { trustDomain: "cluster.local", roots: [r.cert] }, { clock });
    return undefined;
  } catch (e) {
    return `${(e as { code?: string }).code}: ${(e as Error).message}`;
  }
}

test("pathLenConstraint: a root allowing 0 intermediates refuses a chain through one; 1 allows it", async () => {
  for (const [pathLength, ok] of [[0, false], [1, true], [undefined, true]] as const) {
    const r = await root([], pathLength);
    const i = await intermediate(r, "issuing");
    const v = await verdict([await leaf(i), i.cert], r);
    if (ok) assert.is(v, undefined, `pathLength ${pathLength}`);
    else assert.match(v ?? "", /chain-untrusted: CN=root: pathLenConstraint 0/);
  }
  // two intermediates below an intermediate limited to 0
  const r = await root();
  const upper = await intermediate(r, "upper", [], 0);
  const lower = await intermediate(upper, "lower");
  assert.match((await verdict([await leaf(lower), lower.cert, upper.cert], r)) ?? "", /CN=upper: pathLenConstraint 0 allows 0/);
});

test("name constraints: the leaf's SPIFFE ID must fall in the permitted URI subtrees and outside the excluded ones", async () => {
  const r = await root();
  const cases: [Extension, boolean, string][] = [
    [nameConstraints([uri("cluster.local")]), true, "permitted: exactly the trust domain"],
    [nameConstraints([uri(".local")]), true, "permitted: a domain above it"],
    [nameConstraints([uri("other.example")]), false, "permitted elsewhere only"],
    [nameConstraints([uri("other.example"), uri("CLUSTER.local")]), true, "one of several, case-insensitive"],
    [nameConstraints([], [uri("cluster.local")]), false, "excluded"],
    [nameConstraints([uri(".local")], [uri("cluster.local")]), false, "excluded wins over permitted"],
    [nameConstraints([directoryName]), false, "a directoryName subtree cannot be evaluated: refused"],
  ];
  for (const [ext, ok, what] of cases) {
    const i = await intermediate(r, "issuing", [ext]);
    const v = await verdict([await leaf(i), i.cert], r);
    if (ok) assert.is(v, undefined, what);
    else assert.match(v ?? "accepted", /chain-untrusted: CN=issuing: its name constraints refuse the leaf/, what);
  }
  // on the root too (a trust anchor with constraints, as Go applies them)
  const constrained = await root([nameConstraints([uri("prod.example")])]);
  assert.match((await verdict([await leaf(constrained)], constrained)) ?? "accepted", /CN=root: its name constraints refuse the leaf: spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep is outside/);
});

test("an unknown critical extension anywhere on the path refuses it; the same extension non-critical is fine", async () => {
  const r = await root();
  const odd = (critical: boolean) => new x509.Extension("1.3.6.1.4.1.99999.1", critical, new Uint8Array([5, 0]));
  assert.is(await verdict([await leaf(r, [odd(false)])], r), undefined);
  assert.match((await verdict([await leaf(r, [odd(true)])], r)) ?? "accepted", /chain-untrusted: the leaf: unknown critical extension 1.3.6.1.4.1.99999.1/);
  const i = await intermediate(r, "issuing", [odd(true)]);
  assert.match((await verdict([await leaf(i), i.cert], r)) ?? "accepted", /CN=issuing: unknown critical extension/);
  // critical certificate policies are not acted on either
  const p = await intermediate(r, "policies", [new x509.CertificatePolicyExtension(["2.5.29.32.0"], true)]);
  assert.match((await verdict([await leaf(p), p.cert], r)) ?? "accepted", /unknown critical extension 2.5.29.32/);
});

test("name-constraints reader: DNS subtrees, bounded subtrees and malformed DER", () => {
  const dns = (name: string) => tlv(0x82, name);
  const parse = (ext: Extension) => parseNameConstraints(new Uint8Array(ext.value));
  const c = parse(nameConstraints([dns("example.com")]));
  assert.is(nameConstraintsProblem(c, { uris: [], dns: ["a.example.com"] }), undefined);
  assert.is(nameConstraintsProblem(c, { uris: [], dns: ["example.com"] }), undefined);
  assert.match(nameConstraintsProblem(c, { uris: [], dns: ["badexample.com"] }) ?? "", /outside the permitted/);
  assert.is(nameConstraintsProblem(c, { uris: ["spiffe://any/x"], dns: [] }), undefined, "DNS subtrees do not constrain URIs");
  const bounded = seq(tlv(0xa0, seq(uri("cluster.local"), tlv(0x80, new Uint8Array([1])))));
  assert.match(nameConstraintsProblem(parseNameConstraints(bounded), { uris: [ID], dns: [] }) ?? "", /minimum\/maximum/);
  assert.throws(() => parseNameConstraints(new Uint8Array([0x30, 5, 0xa0])), /truncated/);
});

test.run();
