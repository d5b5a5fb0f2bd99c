// The mesh in process (issue 16): a scratch project whose only dependency is dietmesh (linked, as
// `npm install ../dietmesh` would) runs a user's script on this runtime. Through `createMesh` from the
// package root: mesh.fetch splits 80/20 by a VirtualService within ±10 points over 300 calls, retries
// away from an endpoint that refuses connections with no failed call, mesh.serve answers 403 for a
// path an AuthorizationPolicy denies and passes the rest to the app, mesh.metrics() holds Istio's
// metrics for both sides, and after mesh.close() the process ends on its own — with the config from
// files, and again as parsed objects (`resources`, where a bad reload is refused by name). On Deno the package
// resolves, through its "deno" export condition, to the JavaScript build (`npm run build:lib`, made by
// `prepack` for the published package: Deno refuses TypeScript inside node_modules), and on Bun,
// through its "bun" condition, to the bundled build (`npm run build:bun`, also made by `prepack`:
// the cold start is ~50 ms shorter), so the test builds it first and the script runs on what a
// consumer of the npm package gets on that runtime.
import { test } from "uvu";
import { parseAllDocuments } from "yaml";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { must, root, startEcho, tempConfig } from "../support/mesh.ts";

const v1 = startEcho("reviews-v1");
const v2 = startEcho("reviews-v2");
const flaky = startEcho("flaky-up");
let project: string;

const CONFIG = (dead: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: ${v1.server.port} }, labels: { version: v1 } }
  - { address: 127.0.0.1, ports: { http: ${v2.server.port} }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: default }
spec:
  hosts: [reviews]
  http:
  - route:
    - { destination: { host: reviews, subset: v1 }, weight: 80 }
    - { destination: { host: reviews, subset: v2 }, weight: 20 }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: flaky, namespace: default }
spec:
  hosts: [flaky.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: ${dead} } }
  - { address: 127.0.0.1, ports: { http: ${flaky.server.port} } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-admin, namespace: default }
spec:
  selector: { matchLabels: { app: web } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/admin"] } }] }]
`;

/** the build the package root resolves to on this runtime (package.json exports) */
const BUILD = platform.name === "deno" ? { script: "build:lib", entry: "dist/lib/index.js" } : { script: "build:bun", entry: "dist/bun/library/index.js" };

test.before(async () => {
  const build = runCommand("npm", ["run", "--silent", BUILD.script], { cwd: root });
  assert.is(await build.exited, 0, build.lines.join("\n"));
  project = await platform.makeTempDir("dietmesh-scratch-");
  await platform.writeTextFile(`${project}/package.json`, JSON.stringify({ name: "scratch", type: "module", private: true, dependencies: { dietmesh: `file:${root}` } }));
  await platform.mkdir(`${project}/node_modules`);
  const link = runCommand("ln", ["-s", root.replace(/\/$/, ""), `${project}/node_modules/dietmesh`]);
  assert.is(await link.exited, 0);
  await platform.writeTextFile(`${project}/script.mjs`, await platform.readTextFile(`${root}test/library/scratch-script.mjs`));
});

test.after(async () => {
  for (const s of [v1, v2, flaky]) await s.server.stop(true);
  await platform.remove(project);
});

/** runs the script with these arguments; its one JSON line once it ended by itself */
async function runScript(args: string[]) {
  const runtime = platform.name === "bun" ? [`${root}node_modules/.bin/bun`, "script.mjs"] : [`${root}node_modules/.bin/deno`, "run", "-A", "--quiet", "script.mjs"];
  const child = runCommand(runtime[0], [...runtime.slice(1), ...args], { cwd: project });
  // the script ends by itself after mesh.close(); a mesh that kept it alive fails here
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"alive">((resolve) => (timer = setTimeout(() => resolve("alive"), 60_000)));
  const code = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (code === "alive") child.kill("SIGKILL");
  assert.is(code, 0, child.lines.join("\n"));
  return JSON.parse(child.lines.find((l) => l.startsWith("{"))!);
}

function assertMeshWorked(result: any) {
  assert.ok(result.resolved.endsWith(BUILD.entry), `"dietmesh" resolved to ${result.resolved}`);
  const share = (result.counts["reviews-v1"] ?? 0) / 300;
  assert.ok(share >= 0.7 && share <= 0.9, `v1 share ${share} (${JSON.stringify(result.counts)})`);
  assert.is((result.counts["reviews-v1"] ?? 0) + (result.counts["reviews-v2"] ?? 0), 300);
  assert.is(result.failed, 0, "retries moved away from the refusing endpoint");
  assert.is(result.denied, 403);
  assert.is(result.allowed, 200);
  assert.is(result.allowedBody, "app saw /hello from 10.1.2.3");
  assert.ok(result.sourceSeries > 0, "source-side istio_requests_total for reviews");
  assert.ok(result.destinationSeries > 0, "destination-side istio_requests_total with the 403");
}

test("a scratch project's script: 80/20 split, retries without a failed call, a denied path, metrics, and a clean exit", async () => {
  const config = await tempConfig({ "mesh.yaml": CONFIG(await closedPort()) });
  assertMeshWorked(await runScript([config]));
  await platform.remove(config);
});

test("the same with the config passed as objects (resources, no file read), and a bad reload refused by name", async () => {
  const resources = parseAllDocuments(CONFIG(await closedPort())).map((doc) => doc.toJS());
  const result = await runScript(["--resources", JSON.stringify(resources)]);
  assertMeshWorked(result);
  assert.is(result.rejected.file, `resources[${result.rejected.index}]`);
  assert.is(result.rejected.path, "spec.http[0].route[0].weight");
  assert.is(result.rejected.statusAfter, 200, "the last good config still routes");
});

test("the same with the config checked ahead (`dietmesh check --emit`, imported as JSON), as a function would start", async () => {
  const config = await tempConfig({ "mesh.yaml": CONFIG(await closedPort()) });
  assert.match(await must("dietmesh", ["check", "--emit", `${config}/checked.json`, `${config}/mesh.yaml`]), /No validation issues found/);
  assertMeshWorked(await runScript(["--checked", `${config}/checked.json`]));
  await platform.remove(config);
});

test.run();
