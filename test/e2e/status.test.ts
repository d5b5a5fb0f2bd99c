// The status listener (Istio's 15020/15021): readiness, and /stats/prometheus with the app's own
// metrics merged after the sidecar's, as Istio's metrics merging does; nothing of the admin API.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { cli, curl, startProcess, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

let appMetricsUp = true;
const app = platform.serve({
  hostname: "127.0.0.1",
  port: 0,
  handler(request) {
    if (new URL(request.url).pathname === "/metrics") {
      if (!appMetricsUp) return new Response("down", { status: 500 });
      return new Response("# TYPE shop_orders_total counter\nshop_orders_total{kind=\"book\"} 7\n# EOF\n", { headers: { "content-type": "application/openmetrics-text" } });
    }
    return new Response("hello");
  },
});
let sidecar: Sidecar;
let status = "";

test.before(async () => {
  sidecar = await startSidecar(await tempConfig({}), ["--app", `127.0.0.1:${app.port}`, "--inbound", "127.0.0.1:0", "--status", "127.0.0.1:0", "--app-metrics", `http://127.0.0.1:${app.port}/metrics`]);
  [, status] = await sidecar.child.waitFor(/status on (\S+)/);
});

test.after(async () => {
  stopAll();
  await app.stop(true);
});

test("the status port's /stats/prometheus has the sidecar's metrics, then the app's (without OpenMetrics' # EOF)", async () => {
  assert.is((await curl([`http://${sidecar.inbound}/hello`])).status, 200);
  const r = await curl([`http://${status}/stats/prometheus`]);
  assert.is(r.status, 200);
  const sidecarAt = r.body.search(/^istio_requests_total\{/m);
  const appAt = r.body.indexOf('shop_orders_total{kind="book"} 7');
  assert.ok(sidecarAt >= 0 && appAt > sidecarAt, r.body.slice(0, 400));
  assert.not.match(r.body, /# EOF/);
});

test("a failing app scrape leaves the sidecar's metrics served alone", async () => {
  appMetricsUp = false;
  try {
    const r = await curl([`http://${status}/stats/prometheus`]);
    assert.is(r.status, 200);
    assert.match(r.body, /istio_requests_total/);
    assert.not.match(r.body, /shop_orders_total/);
  } finally {
    appMetricsUp = true;
  }
});

test("readiness is there; the admin API is not", async () => {
  assert.is((await curl([`http://${status}/healthz/ready`])).status, 200);
  assert.is((await curl([`http://${status}/config_dump`])).status, 404);
  assert.is((await curl(["-X", "POST", `http://${status}/quitquitquit`])).status, 404);
});

test("the gateway's status listener: readiness and its metrics, no admin API", async () => {
  const gateway = startProcess(cli, ["gateway", "--config", await tempConfig({}), "--admin", "127.0.0.1:0", "--status", "127.0.0.1:0"]);
  const [, gatewayStatus] = await gateway.waitFor(/status on (\S+)/);
  await gateway.waitFor(/ready on/);
  assert.is((await curl([`http://${gatewayStatus}/healthz/ready`])).status, 200);
  assert.match((await curl([`http://${gatewayStatus}/stats/prometheus`])).body, /dietmesh_/);
  assert.is((await curl([`http://${gatewayStatus}/config_dump`])).status, 404);
});

test.run();
