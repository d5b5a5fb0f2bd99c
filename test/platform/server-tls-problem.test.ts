// serverTlsProblem (mesh-listener.ts): a certificate with its own key passes; a key that belongs to
// another certificate is refused on both runtimes (Deno's createSecureContext alone accepts it), so a
// renewal caught between its two files never reaches a client.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { serverTlsProblem } from "../../runtime/platform/mesh-listener.ts";
import { must } from "../support/mesh.ts";

test("a matching pair passes, a foreign key or a broken file does not", async () => {
  const dir = await platform.makeTempDir("dietmesh-pair-");
  for (const name of ["one", "two"]) {
    await must("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-keyout", `${dir}/${name}.key`, "-out", `${dir}/${name}.crt`]);
  }
  const read = (f: string) => platform.readTextFile(`${dir}/${f}`);
  const [cert, key, foreign] = await Promise.all([read("one.crt"), read("one.key"), read("two.key")]);
  assert.is(serverTlsProblem({ certChainPem: cert, keyPem: key, clientCertificate: false }), null);
  assert.ok(serverTlsProblem({ certChainPem: cert, keyPem: foreign, clientCertificate: false }), "a key of another certificate");
  assert.ok(serverTlsProblem({ certChainPem: cert.slice(0, cert.length / 2), keyPem: key, clientCertificate: false }), "half a certificate file");
  await platform.remove(dir);
});

test.run();
