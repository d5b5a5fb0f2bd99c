// A credential's material (security/credential-source.ts) and the --credentials-dir folder as a
// source (credential-files.ts): Istio's keys and their generic-Secret spellings, the CA from the
// credential or its NAME-cacert companion, what each use requires, and errors that name the
// credential and what is missing — never empty material.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { materialOf } from "../../runtime/security/credential-source.ts";
import { folderCredentials } from "../../runtime/security/credential-files.ts";
import { platform } from "../../runtime/platform/index.ts";

const PAIR = { pair: true, ca: "none" } as const;

test("tls.crt/tls.key, else cert/key; the CA from ca.crt or cacert, else from NAME-cacert", () => {
  assert.equal(materialOf("a", { "tls.crt": "C", "tls.key": "K", cert: "x", key: "y" }, undefined, PAIR, "here"), { certChainPem: "C", keyPem: "K" });
  assert.equal(materialOf("a", { cert: "C", key: "K", cacert: "CA" }, undefined, { pair: true, ca: "required" }, "here"), { certChainPem: "C", keyPem: "K", caPem: "CA" });
  assert.equal(materialOf("a", undefined, { "ca.crt": "SEP" }, { pair: false, ca: "required" }, "here"), { caPem: "SEP" });
  assert.equal(materialOf("a", { "ca.crt": "OWN" }, { "ca.crt": "SEP" }, { pair: false, ca: "required" }, "here"), { caPem: "OWN" }, "the credential's own CA first");
  assert.equal(materialOf("a", { "tls.crt": "C", "tls.key": "K" }, undefined, { pair: true, ca: "optional" }, "here"), { certChainPem: "C", keyPem: "K" });
});

test("what a use requires and is missing is an error naming the credential", () => {
  assert.throws(() => materialOf("gw", undefined, undefined, PAIR, "in namespace edge"), /credential gw: no Secret gw in namespace edge/);
  assert.throws(() => materialOf("gw", { "tls.crt": "C" }, undefined, PAIR, "here"), /Secret gw here has no tls\.crt and tls\.key/);
  assert.throws(() => materialOf("gw", { "tls.crt": "C", "tls.key": "K" }, {}, { pair: true, ca: "required" }, "here"), /no ca\.crt \(or cacert\) in Secret gw or gw-cacert here/);
});

test("the folder source reads the files at each read: a replaced file is what the next read gets", async () => {
  const dir = await platform.makeTempDir("dietmesh-creds-");
  try {
    await platform.mkdir(`${dir}/client`);
    await platform.mkdir(`${dir}/client-cacert`);
    await platform.writeTextFile(`${dir}/client/tls.crt`, "CERT");
    await platform.writeTextFile(`${dir}/client/tls.key`, "KEY");
    await platform.writeTextFile(`${dir}/client-cacert/ca.crt`, "CA1");
    const source = folderCredentials(dir);
    assert.equal(await source.read("client", { pair: true, ca: "required" }), { certChainPem: "CERT", keyPem: "KEY", caPem: "CA1" });
    await platform.writeTextFile(`${dir}/client-cacert/ca.crt`, "CA2");
    assert.is((await source.read("client", { pair: false, ca: "required" })).caPem, "CA2");
    const missing = await source.read("nobody", PAIR).then(() => "read", (e: Error) => e.message);
    assert.match(missing, /credential nobody: Secret nobody in .* has no tls\.crt and tls\.key/);
    const escape = await source.read("../etc", PAIR).then(() => "read", (e: Error) => e.message);
    assert.match(escape, /not a Secret name/);
  } finally {
    await platform.remove(dir);
  }
});

test.run();
