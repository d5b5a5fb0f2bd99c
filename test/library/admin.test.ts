// mesh.listenAdmin: the sidecar's admin listener for a mesh in process, so that tools which read
// proxies (a gateway's dashboard with --dashboard-peer, `demo switch`, a scrape) read a library
// workload the same way — and, closed with the mesh, it keeps nothing alive, an open dashboard included.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createMesh, type Mesh } from "../../runtime/library/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { startEcho } from "../support/mesh.ts";

const upstream = startEcho("reviews");
const entry = {
  apiVersion: "networking.istio.io/v1",
  kind: "ServiceEntry",
  metadata: { name: "reviews", namespace: "default" },
  spec: {
    hosts: ["reviews.default.svc.cluster.local"],
    location: "MESH_INTERNAL",
    resolution: "STATIC",
    ports: [{ number: 8080, name: "http", protocol: "HTTP" }],
    endpoints: [{ address: "127.0.0.1", ports: { http: upstream.server.port } }],
  },
};
let mesh: Mesh;
let base: string;

test.before(async () => {
  mesh = await createMesh({ resources: [entry], labels: { app: "web", version: "v1" }, serviceAccount: "web", log: () => {} });
  const admin = await mesh.listenAdmin({ address: "127.0.0.1:0" });
  base = `http://127.0.0.1:${admin.port}`;
});

test.after(async () => {
  await mesh.close();
  await upstream.server.stop();
});

test("ready, and config_dump names a library workload with its service account and labels", async () => {
  const ready = await fetch(`${base}/ready`);
  assert.is(ready.status, 200);
  assert.is(await ready.text(), "LIVE\n");
  const dump = (await (await fetch(`${base}/config_dump`)).json()) as { proxy: { kind: string; serviceAccount: string; labels: Record<string, string> }; version: number };
  assert.is(dump.proxy.kind, "library");
  assert.is(dump.proxy.serviceAccount, "web");
  assert.equal(dump.proxy.labels, { app: "web", version: "v1" });
  assert.ok(dump.version >= 1, `config version ${dump.version}`);
});

test("a mesh.fetch shows in /stats/prometheus and in the dashboard's reading, as a sidecar's would", async () => {
  const res = await mesh.fetch("http://reviews:8080/x");
  assert.is(res.status, 200);
  await res.text();
  const text = await (await fetch(`${base}/stats/prometheus`)).text();
  assert.ok(text.split("\n").some((l) => l.startsWith("istio_requests_total{") && l.includes('reporter="source"') && l.includes('source_app="web"') && l.includes('destination_service_name="reviews"')), text);
  const reading = (await (await fetch(`${base}/dashboard/reading.json`)).json()) as { self: { id: string }; edges: { from: { id: string }; to: { name: string }; requests: number }[] };
  assert.is(reading.self.id, "svc:web.default");
  assert.ok(reading.edges.some((e) => e.from.id === "svc:web.default" && e.to.name === "reviews" && e.requests === 1), JSON.stringify(reading.edges));
});

test("POST /quitquitquit closes the mesh, and the process ends on its own with a dashboard still open", async () => {
  const child = runScript(new URL("./admin-exit.ts", import.meta.url).pathname, []);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"alive">((resolve) => (timer = setTimeout(() => resolve("alive"), 15_000)));
  try {
    const [, address] = await child.waitFor(/^admin (\S+)$/, 15_000);
    const events = await fetch(`http://${address}/dashboard/events`);
    assert.is(events.status, 200);
    const reader = events.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value && new TextDecoder().decode(first.value).startsWith("retry:"), "the event stream is open");
    assert.is((await fetch(`http://${address}/quitquitquit`, { method: "POST" })).status, 200);
    const code = await Promise.race([child.exited, deadline]);
    if (code === "alive") child.kill("SIGKILL");
    assert.is(code, 0, `the process stayed alive or failed:\n${child.lines.join("\n")}`);
    // the stream ended with the mesh (read what was still in flight)
    const ended = await Promise.race([(async () => { while (!(await reader.read().catch(() => ({ done: true }))).done); return "ended"; })(), deadline]);
    assert.is(ended, "ended");
  } finally {
    clearTimeout(timer);
  }
});

test.run();
