// Certificate rotation under load, end to end: two sidecars with 3-second certificates renew them
// every second or so while requests flow between them over mTLS, one new connection per request
// (maxRequestsPerConnection 1), so handshakes keep meeting fresh certificates. Not one may fail.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, startEcho, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

const app = startEcho("b-app");
let work = "";

test.after(async () => {
  stopAll();
  await app.server.stop(true);
  if (work) await platform.remove(work);
});

test("both sides renew several times under load with zero failed requests", async () => {
  work = await platform.makeTempDir("dietmesh-rotation-");
  const init = runScript(cli, ["ca", "init", "--dir", `${work}/ca`]);
  assert.is(await init.exited, 0);
  const b = await startSidecar(await tempConfig({}), ["--app", app.address, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--cert-ttl", "3s"]);
  const [ip, port] = b.inbound!.split(":");
  const a = await startSidecar(await tempConfig({
    "b.yaml": `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: b }
spec:
  hosts: [b.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: ${ip}, ports: { http: ${port} }, serviceAccount: b }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: b }
spec:
  host: b.default.svc.cluster.local
  trafficPolicy: { connectionPool: { http: { maxRequestsPerConnection: 1 } } }
`,
  }), ["--ca-dir", `${work}/ca`, "--service-account", "a", "--cert-ttl", "3s"]);

  const renewals = (child: typeof a.child) => child.lines.filter((l) => l.includes("certificate renewed")).length;
  const statuses = new Map<number, number>();
  const xfccSerials = new Set<string>();
  const deadline = Date.now() + 25_000;
  const worker = async () => {
    while (Date.now() < deadline && (renewals(a.child) < 3 || renewals(b.child) < 3)) {
      const response = await upstreamClient.send({ url: `http://${a.outbound}/r`, method: "GET", headers: new Headers({ host: "b:8080" }), body: null });
      const body = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 200) xfccSerials.add(/Hash=([0-9a-f]+)/.exec(JSON.parse(body).headers["x-forwarded-client-cert"] ?? "")?.[1] ?? "none");
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.ok(renewals(a.child) >= 3 && renewals(b.child) >= 3, `renewals: a ${renewals(a.child)}, b ${renewals(b.child)} before the deadline`);
  const total = [...statuses.values()].reduce((x, y) => x + y, 0);
  assert.equal([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`);
  assert.ok(total > 30, `only ${total} requests`);
  assert.ok(xfccSerials.size >= 3 && !xfccSerials.has("none"), `the app saw ${xfccSerials.size} client certificates`);
});

test.run();
