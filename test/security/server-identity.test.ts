// The names a client accepts on a server's certificate (security/server-identity.ts): mesh mTLS's
// SPIFFE ID checks, and TLS origination's subjectAltNames / SNI / insecureSkipVerify rules that the
// platform's TLS transport calls from node:tls's checkServerIdentity hook; and origination's
// material (security/credential-files.ts originationMaterial): files or credentialName, per read.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inTrustDomain, oneOf, originationNameProblem } from "../../runtime/security/server-identity.ts";
import { originationMaterial } from "../../runtime/security/credential-files.ts";
import type { CredentialSource, CredentialWant } from "../../runtime/security/credential-source.ts";
import { platform } from "../../runtime/platform/index.ts";

const NO_HOST_CHECK = (name: string): Error => {
  throw new Error(`the host-name check ran for ${name}`);
};

test("mesh: exactly one SPIFFE ID, one of the allowed, else under the trust domain", () => {
  const allowed = oneOf(["spiffe://cluster.local/ns/a/sa/x"]);
  assert.is(allowed(["spiffe://cluster.local/ns/a/sa/x"]), null);
  assert.is(allowed(["spiffe://cluster.local/ns/a/sa/y"]), "server identity spiffe://cluster.local/ns/a/sa/y is not one of spiffe://cluster.local/ns/a/sa/x");
  assert.match(allowed(["spiffe://cluster.local/ns/a/sa/x", "spiffe://cluster.local/ns/a/sa/x"])!, /is not one of/, "two URI SANs are not an SVID");
  const domain = inTrustDomain("spiffe://cluster.local/");
  assert.is(domain(["spiffe://cluster.local/ns/b/sa/z"]), null);
  assert.is(domain([]), "server identity (none) is not a SPIFFE ID under spiffe://cluster.local/");
  assert.match(domain(["spiffe://other.local/ns/b/sa/z"])!, /not a SPIFFE ID under spiffe:\/\/cluster\.local\//);
});

test("origination with subjectAltNames: any one as a DNS or URI SAN, exact; the host-name check is not used", () => {
  const rules = { serverName: "api.example", subjectAltNames: ["billing.example", "spiffe://ext/billing"], insecureSkipVerify: false };
  assert.is(originationNameProblem(rules, "DNS:other.example, DNS:billing.example", NO_HOST_CHECK), undefined);
  assert.is(originationNameProblem(rules, "URI:spiffe://ext/billing", NO_HOST_CHECK), undefined);
  assert.is(originationNameProblem(rules, "DNS:api.example", NO_HOST_CHECK)?.message, "server certificate SANs api.example include none of billing.example, spiffe://ext/billing");
  assert.is(originationNameProblem(rules, "DNS:x.billing.example", NO_HOST_CHECK)?.message, "server certificate SANs x.billing.example include none of billing.example, spiffe://ext/billing");
  assert.is(originationNameProblem(rules, undefined, NO_HOST_CHECK)?.message, "server certificate SANs (none) include none of billing.example, spiffe://ext/billing");
});

test("origination without subjectAltNames (or an empty list): the runtime's host-name check of the SNI, its error as is", () => {
  const asked: string[] = [];
  const refusal = Object.assign(new Error("Hostname/IP does not match"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  const check = (name: string) => (asked.push(name), name === "api.example" ? undefined : refusal);
  assert.is(originationNameProblem({ serverName: "api.example", insecureSkipVerify: false }, "DNS:api.example", check), undefined);
  assert.is(originationNameProblem({ serverName: "edition.cnn.com", subjectAltNames: [], insecureSkipVerify: false }, "DNS:api.example", check), refusal);
  assert.equal(asked, ["api.example", "edition.cnn.com"]);
});

test("origination with insecureSkipVerify: no name is checked", () => {
  assert.is(originationNameProblem({ serverName: "api.example", subjectAltNames: ["billing.example"], insecureSkipVerify: true }, "DNS:wrong.example", NO_HOST_CHECK), undefined);
  assert.is(originationNameProblem({ serverName: "api.example", insecureSkipVerify: true }, undefined, NO_HOST_CHECK), undefined);
});

test("origination material: the named files at each read (MUTUAL's pair too), a credentialName from the source with what the mode needs", async () => {
  const dir = await platform.makeTempDir("dietmesh-origination-");
  try {
    await platform.writeTextFile(`${dir}/ca.pem`, "CA1");
    await platform.writeTextFile(`${dir}/cert.pem`, "CERT");
    await platform.writeTextFile(`${dir}/key.pem`, "KEY");
    const files = { caCertificates: `${dir}/ca.pem`, clientCertificate: `${dir}/cert.pem`, privateKey: `${dir}/key.pem` };
    const simple = originationMaterial({ mode: "SIMPLE", ...files }, undefined);
    assert.equal(await simple(), { caPem: "CA1", certChainPem: undefined, keyPem: undefined }, "SIMPLE presents no client certificate");
    await platform.writeTextFile(`${dir}/ca.pem`, "CA2");
    assert.is((await simple()).caPem, "CA2", "a replaced file is what the next connection reads");
    assert.equal(await originationMaterial({ mode: "MUTUAL", ...files }, undefined)(), { caPem: "CA2", certChainPem: "CERT", keyPem: "KEY" });
    assert.equal(await originationMaterial({ mode: "SIMPLE" }, undefined)(), { caPem: undefined, certChainPem: undefined, keyPem: undefined }, "no CA: the runtime's roots");
  } finally {
    await platform.remove(dir);
  }
  const wants: CredentialWant[] = [];
  const source: CredentialSource = { origin: "test", read: async (name, want) => (wants.push(want), { caPem: `CA of ${name}` }), close() {} };
  assert.equal(await originationMaterial({ mode: "SIMPLE", credentialName: "api" }, source)(), { caPem: "CA of api" });
  await originationMaterial({ mode: "MUTUAL", credentialName: "client" }, source)();
  assert.equal(wants, [{ pair: false, ca: "required" }, { pair: true, ca: "optional" }]);
  const none = await originationMaterial({ mode: "MUTUAL", credentialName: "client" }, undefined)().then(() => "read", (e: Error) => e.message);
  assert.match(none, /credentialName client: this proxy has no credential source/);
});

test.run();
