// Istio's standard Grafana dashboards against dietmesh (issue 14 item 4): a real Prometheus scrapes
// every proxy of the demo (gateway → hello-istio, gateway → spelling-service → a/b/c-service, all
// mTLS) and of a TCP pair (a CONNECT tunnel over mTLS to a tcp-echo workload), under load; then the
// queries of each panel of the Istio Service and Istio Workload dashboards — written here in the
// shape those panels use: the same metrics, label matchers, groupings and functions, with the
// dashboards' variables set to the demo's names — must each return series with numbers, and the
// variables' own queries must offer the demo's services, workloads and namespaces. An empty panel is
// a label dietmesh does not fill as Istio does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, eventually, must, root, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

let demo: Child | undefined;
let prometheus: Child | undefined;
let gateway = "";
let dir = "";
let tmp = "";
let web = "";
let tcpClient: Sidecar;
let tcpServer: Sidecar;
let echo: net.Server;
let loading = true;
const workers: Promise<void>[] = [];

const NS = "default";
const HELLO = "hello-istio.default.svc.cluster.local";
const TCP_SERVICE = "tcp-echo.default.svc.cluster.local";

/** an echo server for the TCP panels */
function startTcpEcho(): Promise<number> {
  echo = net.createServer((socket) => {
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("error", () => {});
  });
  return new Promise((resolve) => echo.listen(0, "127.0.0.1", () => resolve((echo.address() as net.AddressInfo).port)));
}

/** one CONNECT tunnel through the client sidecar: a line out, its echo back, then closed */
function tunnel(): Promise<boolean> {
  const [host, port] = tcpClient.outbound.split(":");
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) }, () => socket.write(`CONNECT ${TCP_SERVICE}:9000 HTTP/1.1\r\nHost: ${TCP_SERVICE}:9000\r\n\r\n`));
    let raw = "";
    let ok = false;
    socket.on("data", (d) => {
      raw += d;
      if (!ok && raw.includes("\r\n\r\n")) {
        if (!/ 200 /.test(raw.split("\r\n")[0])) return socket.destroy();
        ok = true;
        raw = raw.slice(raw.indexOf("\r\n\r\n") + 4);
        socket.write("ping\n");
      }
      if (ok && raw.endsWith("ping\n")) socket.end();
    });
    socket.on("end", () => socket.end());
    socket.on("error", () => {});
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("close", () => resolve(ok));
  });
}

async function get(host: string, path: string): Promise<number> {
  const res = await upstreamClient.send({ url: `http://${gateway}${path}`, method: "GET", headers: new Headers({ host }), body: null });
  await res.text();
  return res.status;
}

function startLoad() {
  const loop = async (step: () => Promise<unknown>) => {
    while (loading) {
      try {
        await step();
      } catch {
        // a failure shows as an empty or 5xx panel, which the assertions name
      }
    }
  };
  workers.push(loop(() => get("hello-istio.cloud", "/api/hello")));
  workers.push(loop(() => get("spelling.cloud", "/api/spelling?word=abc")));
  workers.push(loop(() => tunnel()));
}

async function freePort(): Promise<number> {
  const server = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("") });
  const port = server.port;
  await server.stop(true);
  return port;
}

type Series = { metric: Record<string, string>; value: [number, string] };
async function query(q: string): Promise<Series[]> {
  const res = await fetch(`http://${web}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Series[] } };
  assert.is(body.status, "success", `${q}: ${body.error}`);
  return body.data.result;
}

test.before(async () => {
  const tools = runCommand("bash", [`${root}scripts/ensure-tools.sh`, "prometheus"]);
  assert.is(await tools.exited, 0, tools.lines.join("\n"));
  dir = await platform.makeTempDir("dietmesh-dash-demo-");
  tmp = await platform.makeTempDir("dietmesh-dash-prom-");
  demo = runScript(cli, ["demo", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 60_000);

  // the TCP pair, on the demo's CA: tcp-client (CONNECT) → mTLS → tcp-echo's sidecar → the echo app
  const echoPort = await startTcpEcho();
  const ca = ["--ca-dir", `${dir}-ca`];
  // its registry knows the service it backs (by its endpoint's labels), for destination_service
  const tcpEchoEntry = (address: string, port: string) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: [${TCP_SERVICE}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: ${address}, ports: { tcp: ${port} }, labels: { app: tcp-echo, version: v1 }, serviceAccount: tcp-echo }]
`;
  tcpServer = await startSidecar(await tempConfig({ "tcp-echo.yaml": tcpEchoEntry("127.0.0.1", "9") }), ["--app", `127.0.0.1:${echoPort}`, "--inbound", "127.0.0.1:0", ...ca, "--service-account", "tcp-echo", "--labels", "app=tcp-echo,version=v1"]);
  const [address, port] = tcpServer.inbound!.split(":");
  tcpClient = await startSidecar(
    await tempConfig({
      "tcp-echo.yaml": tcpEchoEntry(address, port),
    }),
    [...ca, "--service-account", "tcp-client", "--labels", "app=tcp-client,version=v1"],
  );
  assert.ok(await tunnel(), "a tunnel through the TCP pair");

  // Prometheus scrapes every proxy's /stats/prometheus, as Istio's PodMonitor does
  const state = JSON.parse(await platform.readTextFile(`${dir}/.dietmesh-demo.json`)) as { proxies: { admin: string }[] };
  const targets = [...state.proxies.map((p) => p.admin), tcpClient.admin, tcpServer.admin];
  web = `127.0.0.1:${await freePort()}`;
  await platform.writeTextFile(`${tmp}/prometheus.yml`, `global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: dietmesh
    metrics_path: /stats/prometheus
    static_configs: [{ targets: ${JSON.stringify(targets)} }]
`);
  await platform.mkdir(`${tmp}/data`);
  prometheus = runCommand("prometheus", [`--config.file=${tmp}/prometheus.yml`, `--storage.tsdb.path=${tmp}/data`, `--web.listen-address=${web}`]);
  await eventually(async () => (await fetch(`http://${web}/-/ready`).catch(() => undefined))?.status === 200, 30_000, "prometheus ready");
  await eventually(async () => (await query('up{job="dietmesh"} == 1')).length === targets.length || undefined, 20_000, "every proxy scraped");
  startLoad();
  // irate needs two scrapes with traffic between them, on every series the panels read
  const moving = [
    `istio_requests_total{reporter="source",destination_service="${HELLO}",source_workload="istio-ingressgateway"}`,
    `istio_requests_total{reporter="destination",destination_service="${HELLO}",destination_workload="hello-istio-v1"}`,
    `istio_requests_total{reporter="destination",destination_workload="spelling-service-v1",source_workload="istio-ingressgateway"}`,
    `istio_requests_total{reporter="source",source_workload="spelling-service-v1",destination_service="c-service.default.svc.cluster.local"}`,
    `istio_tcp_received_bytes_total{reporter="source",source_workload="tcp-client-v1"}`,
    `istio_tcp_received_bytes_total{reporter="destination",destination_workload="tcp-echo-v1"}`,
  ];
  await eventually(async () => {
    for (const series of moving) if ((await query(`irate(${series}[30s]) > 0`)).length === 0) return undefined;
    return true;
  }, 60_000, `traffic on ${moving.join(", ")}`);
});

test.after(async () => {
  loading = false;
  await Promise.all(workers);
  stopAll();
  echo?.close();
  for (const child of [prometheus, demo]) {
    if (!child) continue;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child.exited;
    clearTimeout(timer);
  }
  for (const path of [dir, `${dir}-ca`, tmp]) if (path) await platform.remove(path);
});

/** every series a number, at least one */
async function panel(name: string, q: string) {
  const result = await query(q);
  assert.ok(result.length > 0, `${name}: no series for ${q}`);
  for (const s of result) assert.ok(Number.isFinite(Number(s.value[1])), `${name}: ${JSON.stringify(s)} for ${q}`);
  return result;
}

const R = "[30s]"; // the dashboards' $__rate_interval, for a 1 s scrape
const rep = 'reporter=~"source|destination"'; // $qrep: both reporters, the dashboards' "both" choice
const svc = (s: string) => `destination_service="${s}"`;

test("Istio Service Dashboard, general row: client and server request volume, success rate, duration, TCP bytes", async () => {
  for (const [reporter, who] of [[rep, "client"], ['reporter="destination"', "server"]]) {
    await panel(`${who} request volume`, `round(sum(irate(istio_requests_total{${reporter},${svc(HELLO)}}${R})), 0.001)`);
    await panel(`${who} success rate`, `sum(irate(istio_requests_total{${reporter},${svc(HELLO)},response_code!~"5.*"}${R})) / (sum(irate(istio_requests_total{${reporter},${svc(HELLO)}}${R})) or on () vector(1))`);
    for (const q of ["0.50", "0.90", "0.99"]) {
      await panel(`${who} request duration p${q}`, `(histogram_quantile(${q}, sum(irate(istio_request_duration_milliseconds_bucket{${reporter},${svc(HELLO)}}${R})) by (le)) / 1000) or histogram_quantile(${q}, sum(irate(istio_request_duration_seconds_bucket{${reporter},${svc(HELLO)}}${R})) by (le))`);
    }
  }
  await panel("TCP received bytes", `sum(irate(istio_tcp_received_bytes_total{${rep}, ${svc(TCP_SERVICE)}}${R}))`);
  await panel("TCP sent bytes", `sum(irate(istio_tcp_sent_bytes_total{${rep}, ${svc(TCP_SERVICE)}}${R}))`);
});

test("Istio Service Dashboard, client workloads row: by source workload and response code, mTLS shown as such", async () => {
  const from = `${rep},${svc(HELLO)},source_workload=~"istio-ingressgateway",source_workload_namespace=~"${NS}"`;
  const mtls = await panel("incoming requests by source and response code (mTLS)", `round(sum(irate(istio_requests_total{connection_security_policy="mutual_tls",${from}}${R})) by (source_workload, source_workload_namespace, response_code), 0.001)`);
  assert.ok(mtls.some((s) => s.metric.source_workload === "istio-ingressgateway" && s.metric.response_code === "200"), JSON.stringify(mtls));
  await panel("incoming success rate by source", `sum(irate(istio_requests_total{${from},response_code!~"5.*"}${R})) by (source_workload, source_workload_namespace) / sum(irate(istio_requests_total{${from}}${R})) by (source_workload, source_workload_namespace)`);
  await panel("incoming request duration by source p50", `histogram_quantile(0.50, sum(irate(istio_request_duration_milliseconds_bucket{${from}}${R})) by (source_workload, source_workload_namespace, le)) / 1000`);
  await panel("incoming request size by source p50", `histogram_quantile(0.50, sum(irate(istio_request_bytes_bucket{${from}}${R})) by (source_workload, source_workload_namespace, le))`);
  await panel("response size by source p50", `histogram_quantile(0.50, sum(irate(istio_response_bytes_bucket{${from}}${R})) by (source_workload, source_workload_namespace, le))`);
  const tcpFrom = `${rep}, connection_security_policy="mutual_tls", ${svc(TCP_SERVICE)}, source_workload=~"tcp-client-v1", source_workload_namespace=~"${NS}"`;
  const received = await panel("bytes received from incoming TCP connections", `round(sum(irate(istio_tcp_received_bytes_total{${tcpFrom}}${R})) by (source_workload, source_workload_namespace), 0.001)`);
  assert.is(received[0].metric.source_workload, "tcp-client-v1");
  // the destination side knows the caller's workload too (its metadata rides on the tunnel's CONNECT)
  await panel("bytes received from incoming TCP connections, server side", `sum(irate(istio_tcp_received_bytes_total{reporter="destination", ${svc(TCP_SERVICE)}, source_workload="tcp-client-v1", source_app="tcp-client"}${R})) by (source_workload)`);
  await panel("bytes sent to incoming TCP connections", `round(sum(irate(istio_tcp_sent_bytes_total{${tcpFrom}}${R})) by (source_workload, source_workload_namespace), 0.001)`);
});

test("Istio Service Dashboard, service workloads row: by destination workload", async () => {
  const to = `reporter="destination",${svc(HELLO)},destination_workload=~"hello-istio-v1",destination_workload_namespace=~"${NS}"`;
  const byCode = await panel("incoming requests by destination workload and response code", `round(sum(irate(istio_requests_total{connection_security_policy="mutual_tls",${to}}${R})) by (destination_workload, destination_workload_namespace, response_code), 0.001)`);
  assert.ok(byCode.some((s) => s.metric.destination_workload === "hello-istio-v1"), JSON.stringify(byCode));
  await panel("incoming success rate by destination workload", `sum(irate(istio_requests_total{${to},response_code!~"5.*"}${R})) by (destination_workload, destination_workload_namespace) / sum(irate(istio_requests_total{${to}}${R})) by (destination_workload, destination_workload_namespace)`);
  await panel("incoming request duration by service workload p90", `histogram_quantile(0.90, sum(irate(istio_request_duration_milliseconds_bucket{${to}}${R})) by (destination_workload, destination_workload_namespace, le)) / 1000`);
  await panel("incoming request size by service workload p90", `histogram_quantile(0.90, sum(irate(istio_request_bytes_bucket{${to}}${R})) by (destination_workload, destination_workload_namespace, le))`);
  await panel("response size by service workload p90", `histogram_quantile(0.90, sum(irate(istio_response_bytes_bucket{${to}}${R})) by (destination_workload, destination_workload_namespace, le))`);
  const tcpTo = `reporter="destination", connection_security_policy="mutual_tls", ${svc(TCP_SERVICE)}, destination_workload=~"tcp-echo-v1", destination_workload_namespace=~"${NS}"`;
  await panel("bytes received from incoming TCP connections by workload", `round(sum(irate(istio_tcp_received_bytes_total{${tcpTo}}${R})) by (destination_workload, destination_workload_namespace), 0.001)`);
  await panel("bytes sent to incoming TCP connections by workload", `round(sum(irate(istio_tcp_sent_bytes_total{${tcpTo}}${R})) by (destination_workload, destination_workload_namespace), 0.001)`);
});

test("Istio Service Dashboard's variables offer the demo's services, source and destination workloads and namespaces", async () => {
  const values = async (q: string, label: string) => (await query(q)).map((s) => s.metric[label]);
  const services = await values("sum(istio_requests_total) by (destination_service) or sum(istio_tcp_connections_opened_total) by (destination_service)", "destination_service");
  for (const s of [HELLO, "spelling-service.default.svc.cluster.local", "a-service.default.svc.cluster.local", TCP_SERVICE]) assert.ok(services.includes(s), `${s} in ${services}`);
  assert.ok((await values(`sum(istio_requests_total{${rep}, ${svc(HELLO)}}) by (source_workload_namespace)`, "source_workload_namespace")).includes(NS));
  assert.ok((await values(`sum(istio_requests_total{${rep}, ${svc(HELLO)}, source_workload_namespace=~"${NS}"}) by (source_workload)`, "source_workload")).includes("istio-ingressgateway"));
  assert.ok((await values(`sum(istio_requests_total{reporter="destination", ${svc(HELLO)}}) by (destination_workload_namespace)`, "destination_workload_namespace")).includes(NS));
  assert.ok((await values(`sum(istio_requests_total{reporter="destination", ${svc(HELLO)}}) by (destination_workload)`, "destination_workload")).includes("hello-istio-v1"));
});

test("Istio Workload Dashboard: inbound and outbound panels of spelling-service-v1, TCP of the TCP pair", async () => {
  const wl = `destination_workload_namespace=~"${NS}",destination_workload=~"spelling-service-v1"`;
  await panel("incoming request volume", `round(sum(irate(istio_requests_total{${rep},${wl}}${R})), 0.001)`);
  await panel("incoming success rate", `sum(irate(istio_requests_total{${rep},${wl},response_code!~"5.*"}${R})) / sum(irate(istio_requests_total{${rep},${wl}}${R}))`);
  await panel("request duration p99", `histogram_quantile(0.99, sum(irate(istio_request_duration_milliseconds_bucket{${rep},${wl}}${R})) by (le)) / 1000`);
  const inbound = await panel("inbound workloads: requests by source and response code", `round(sum(irate(istio_requests_total{${rep},${wl},source_workload=~".*",source_workload_namespace=~".*"}${R})) by (source_workload, source_workload_namespace, response_code), 0.001)`);
  assert.ok(inbound.some((s) => s.metric.source_workload === "istio-ingressgateway"), JSON.stringify(inbound));
  const from = `reporter=~"source",source_workload_namespace=~"${NS}",source_workload=~"spelling-service-v1"`;
  const outbound = await panel("outbound services: requests by destination service and response code", `round(sum(irate(istio_requests_total{${from},destination_service=~".*"}${R})) by (destination_service, response_code), 0.001)`);
  for (const s of ["a-service", "b-service", "c-service"]) assert.ok(outbound.some((x) => x.metric.destination_service === `${s}.default.svc.cluster.local`), `${s} in ${JSON.stringify(outbound)}`);
  await panel("outbound success rate by destination service", `sum(irate(istio_requests_total{${from},response_code!~"5.*"}${R})) by (destination_service) / sum(irate(istio_requests_total{${from}}${R})) by (destination_service)`);
  await panel("outgoing request duration by destination service p50", `histogram_quantile(0.50, sum(irate(istio_request_duration_milliseconds_bucket{${from}}${R})) by (destination_service, le)) / 1000`);
  await panel("outgoing request size p50", `histogram_quantile(0.50, sum(irate(istio_request_bytes_bucket{${from}}${R})) by (destination_service, le))`);
  await panel("response size p50", `histogram_quantile(0.50, sum(irate(istio_response_bytes_bucket{${from}}${R})) by (destination_service, le))`);
  // TCP server and client traffic (the TCP pair's workloads)
  await panel("TCP server traffic", `sum(irate(istio_tcp_sent_bytes_total{${rep}, destination_workload_namespace=~"${NS}", destination_workload=~"tcp-echo-v1"}${R})) + sum(irate(istio_tcp_received_bytes_total{${rep}, destination_workload_namespace=~"${NS}", destination_workload=~"tcp-echo-v1"}${R}))`);
  await panel("TCP client traffic", `sum(irate(istio_tcp_sent_bytes_total{reporter=~"source", source_workload_namespace=~"${NS}", source_workload=~"tcp-client-v1"}${R})) + sum(irate(istio_tcp_received_bytes_total{reporter=~"source", source_workload_namespace=~"${NS}", source_workload=~"tcp-client-v1"}${R}))`);
  const tcpOut = await panel("bytes sent to outgoing TCP connections by destination service", `round(sum(irate(istio_tcp_sent_bytes_total{reporter="source", source_workload_namespace=~"${NS}", source_workload=~"tcp-client-v1", destination_service=~".*"}${R})) by (destination_service), 0.001)`);
  assert.is(tcpOut[0].metric.destination_service, TCP_SERVICE);
});

test("Istio Workload Dashboard's variables offer the demo's namespaces, workloads and destination services", async () => {
  const values = async (q: string, label: string) => (await query(q)).map((s) => s.metric[label]);
  assert.ok((await values("sum(istio_requests_total) by (destination_workload_namespace) or sum(istio_tcp_sent_bytes_total) by (destination_workload_namespace)", "destination_workload_namespace")).includes(NS));
  const workloads = await values(`sum(istio_requests_total{destination_workload_namespace=~"${NS}"}) by (destination_workload) or sum(istio_tcp_sent_bytes_total{destination_workload_namespace=~"${NS}"}) by (destination_workload)`, "destination_workload");
  for (const w of ["hello-istio-v1", "spelling-service-v1", "a-service-v1", "tcp-echo-v1"]) assert.ok(workloads.includes(w), `${w} in ${workloads}`);
  const dst = await values(`sum(istio_requests_total{reporter="source", source_workload=~"spelling-service-v1", source_workload_namespace=~"${NS}"}) by (destination_service)`, "destination_service");
  assert.ok(dst.includes("b-service.default.svc.cluster.local"), String(dst));
});

test.run();
