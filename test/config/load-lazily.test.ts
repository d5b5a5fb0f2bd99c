// What a file load loads (issue 16 cold start): plain YAML and JSON that the fast readers read, with
// no error to place on a line, never load the `yaml` package; a file they cannot read, or an error
// that needs its field's line, loads it and gets the same answer as before — the line included.
// Its own process: nothing else here imports the package.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { yamlPackageLoaded } from "../../runtime/config/yaml-docs.ts";
import { platform } from "../../runtime/platform/index.ts";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };
const dir = await platform.makeTempDir("dietmesh-lazy-");
const vs = (name: string, extra = "") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}]
  http:
  - route: [{ destination: { host: ${name} } }]${extra}
`;
test.after(() => platform.remove(dir));

test("plain YAML and JSON with no error load no yaml package", async () => {
  await platform.writeTextFile(`${dir}/ok-a.yaml`, vs("a"));
  await platform.writeTextFile(`${dir}/ok-b.json`, JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "b" }, spec: { hosts: ["b"], http: [{ route: [{ destination: { host: "b" } }] }] } }));
  const { config, errors } = await loadConfig([`${dir}/ok-a.yaml`, `${dir}/ok-b.json`], { defaultNamespace: "default", ...io });
  assert.equal(errors, []);
  assert.equal(config!.virtualServices.map((v) => v.metadata.name), ["a", "b"]);
  assert.not.ok(yamlPackageLoaded(), "the yaml package was loaded for a config the fast readers read");
});

test("an error that needs its line loads the package, and the error has its line", async () => {
  await platform.writeTextFile(`${dir}/bad.yaml`, vs("c", "\n    timeout: soon"));
  const { config, errors } = await loadConfig([`${dir}/bad.yaml`], { defaultNamespace: "default", ...io });
  assert.is(config, undefined);
  assert.equal(errors.map((e) => [e.path, e.line]), [["spec.http[0].timeout", 8]]);
  assert.ok(yamlPackageLoaded());
});

test("a file the fast readers cannot read (an anchor and an alias) is read by the package", async () => {
  const text = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: d, namespace: default }\nspec:\n  hosts: [&h d]\n  http:\n  - route: [{ destination: { host: *h } }]\n";
  await platform.writeTextFile(`${dir}/anchor.yaml`, text);
  const { config, errors } = await loadConfig([`${dir}/anchor.yaml`], { defaultNamespace: "default", ...io });
  assert.equal(errors, []);
  assert.is(config!.virtualServices[0].spec.http[0].route![0].destination.host, "d");
});

test("a regex spelled with an escape (JSON's \\u) is still validated by RE2", async () => {
  const match = '{ "uri": { "r\\u0065gex": "/a(?=b)" } }';
  const text = `{ "apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": { "name": "e" }, "spec": { "hosts": ["e"], "http": [{ "match": [${match}], "route": [{ "destination": { "host": "e" } }] }] } }`;
  await platform.writeTextFile(`${dir}/escaped.json`, text);
  const { errors } = await loadConfig([`${dir}/escaped.json`], { defaultNamespace: "default", ...io });
  assert.match(errors.map((e) => e.message).join("\n"), /look-ahead and look-behind/);
});

test.run();
