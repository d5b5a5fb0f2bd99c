// VirtualService header operations the proxy could not honour are refused at load with their path
// (istiod's rules, plus values no header may carry), never dropped at compile.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { memoryIO } from "./memory-io.ts";

/** a VirtualService with `headers` (YAML flow mapping) at route level and at destination level */
const vs = (routeHeaders: string, destinationHeaders = "{}") => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [web]
  http:
  - headers: ${routeHeaders}
    route: [{ destination: { host: web }, headers: ${destinationHeaders} }]
`;

async function errors(text: string): Promise<string[]> {
  const result = await loadConfig(["vs.yaml"], { defaultNamespace: "default", ...memoryIO({ "vs.yaml": text }) });
  if (result.errors.length) assert.is(result.config, undefined);
  return result.errors.map(formatConfigError);
}

test("a name with a space, pseudo-headers other than :authority, and CR/LF values are refused with file, resource and path", async () => {
  const got = await errors(vs(`{ request: { set: { "bad name": v, ":path": /x, x-ok: "a\\r\\nset-cookie: pwned" }, remove: [x-fine, ":method"] }, response: { add: { host: h } } }`));
  const prefix = "Error [schema] VirtualService shop/web (vs.yaml, document 1, line 7) spec.http[0].headers.";
  const want = [
    ["request.set", /invalid header name "bad name": expected an HTTP token/],
    ["request.set", /header ":path" cannot be written: of the pseudo-headers and host only :authority/],
    ["request.set", /header "x-ok": value has CR, LF or another control character/],
    ["request.remove[1]", /header ":method" cannot be removed/],
    ["response.add", /header "host" cannot be written on a response/],
  ] as const;
  assert.is(got.length, want.length, JSON.stringify(got, null, 1));
  for (const [path, message] of want) {
    assert.ok(got.some((e) => e.startsWith(prefix + path) && message.test(e)), `expected ${path} ~ ${message} in ${JSON.stringify(got, null, 1)}`);
  }
});

test("destination-level operations are checked too", async () => {
  const got = await errors(vs("{}", `{ request: { add: { "x y": v } } }`));
  assert.is(got.length, 1);
  assert.match(got[0], /spec\.http\[0\]\.route\[0\]\.headers\.request\.add.*invalid header name "x y"/);
});

test("valid operations still load: host and :authority on a request (an authority rewrite), tabs in values", async () => {
  assert.equal(await errors(vs(`{ request: { set: { ":authority": a.example, x-tab: "a\\tb" }, add: { Host: b.example }, remove: [x-drop] }, response: { set: { x-served-by: dietmesh }, remove: [server] } }`)), []);
});

test.run();
