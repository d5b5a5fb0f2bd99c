// End to end, Istio Telemetry resources and the --access-log flag on a real sidecar: the flag is
// the mesh-wide default (Istio's meshConfig.accessLogFile), a Telemetry selecting the workload with
// `disabled: true` turns its log off despite the flag, a reload that drops it turns the log back
// on; without the flag, a Telemetry naming "envoy" turns it on; a Telemetry with a field dietmesh
// cannot honour (filter) is refused on reload and the last good config stays.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { eventually, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

const echo = startEcho("app");
const registry = serviceEntry("app", "app.default.svc.cluster.local", [{ address: echo.address }]);
const telemetry = (accessLogging: string) => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: logs, namespace: default }
spec:
  selector: { matchLabels: { app: quiet } }
  accessLogging:
${accessLogging}`;

let flagged: Sidecar;
let unflagged: Sidecar;
let split: Sidecar;
let dir = "";

test.before(async () => {
  dir = await tempConfig({ "registry.yaml": registry, "telemetry.yaml": telemetry("  - disabled: true\n") });
  flagged = await startSidecar(dir, ["--access-log", "json", "--namespace", "default", "--labels", "app=quiet"]);
  unflagged = await startSidecar(await tempConfig({ "registry.yaml": registry, "telemetry.yaml": telemetry("  - providers: [{ name: envoy }]\n") }), ["--namespace", "default", "--labels", "app=quiet"]);
  // the server side only (Istio's example): calls to it are logged, its calls out are not — a
  // Telemetry that applies decides both sides, and no rule turns the client side on
  const serverOnly = telemetry("  - providers: [{ name: envoy }]\n    match: { mode: SERVER }\n").replace("app: quiet", "app: split");
  split = await startSidecar(await tempConfig({ "registry.yaml": registry, "telemetry.yaml": serverOnly }), ["--access-log", "json", "--namespace", "default", "--labels", "app=split", "--app", echo.address, "--inbound", "127.0.0.1:0"]);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

async function send(sidecar: Sidecar, id: string) {
  const res = await upstreamClient.send({ url: `http://${sidecar.outbound}/x`, method: "GET", headers: new Headers({ host: "app.default.svc.cluster.local:8080", "x-request-id": id }), body: null });
  await res.text();
  assert.is(res.status, 200);
}
const logged = (sidecar: Sidecar, id: string) => sidecar.child.lines.some((l) => l.includes(id) && !l.includes("config"));

test("with the flag, disabled: true turns the log off; dropping it on reload turns it back on", async () => {
  await send(flagged, "id-quiet");
  const reloads = flagged.child.lines.filter((l) => l.includes("in service")).length;
  await platform.writeTextFile(`${dir}/telemetry.yaml`, telemetry("  - providers: [{ name: envoy }]\n"));
  await eventually(async () => flagged.child.lines.filter((l) => l.includes("in service")).length > reloads, 8000, "the reload");
  await send(flagged, "id-loud");
  // lines are written in order: once the second is out, the first would have been too
  await eventually(async () => logged(flagged, "id-loud"), 5000, "the line of the second request");
  assert.not.ok(logged(flagged, "id-quiet"), "the request while disabled was not logged");
});

test("a Telemetry with a filter is refused on reload, naming its path; the last good config stays", async () => {
  const before = flagged.child.lines.length;
  await platform.writeTextFile(`${dir}/telemetry.yaml`, telemetry("  - providers: [{ name: envoy }]\n    filter: { expression: response.code >= 400 }\n"));
  const line = await eventually(async () => flagged.child.lines.slice(before).find((l) => l.includes("spec.accessLogging[0].filter")), 8000, "the refusal");
  assert.match(line, /telemetry\.yaml/);
  await send(flagged, "id-still");
  await eventually(async () => logged(flagged, "id-still"), 5000, "still logging under the last good config");
});

test("match.mode SERVER: the sidecar's inbound requests are logged, its outbound ones are not (Telemetry's per-side switch)", async () => {
  await send(split, "id-outbound");
  const res = await upstreamClient.send({ url: `http://${split.inbound}/in`, method: "GET", headers: new Headers({ host: "app:8080", "x-request-id": "id-inbound" }), body: null });
  await res.text();
  assert.is(res.status, 200);
  await eventually(async () => logged(split, "id-inbound"), 5000, "the inbound request's line");
  assert.not.ok(logged(split, "id-outbound"), "the outbound request, sent first, was not logged");
});

test("without the flag, a Telemetry naming envoy turns the log on (text)", async () => {
  await send(unflagged, "id-text");
  const line = await eventually(async () => unflagged.child.lines.find((l) => l.includes("id-text")), 5000, "the text line");
  assert.ok(line.startsWith("["), line);
});

test.run();
