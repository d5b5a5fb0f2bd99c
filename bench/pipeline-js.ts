// The gateway row's request path in one process, with the sockets taken away: what dietmesh's own
// code costs per request, without the kernel and the host's noise around it. The bench's Gateway
// and VirtualService (bench/run.sh's gateway rows) are compiled as a gateway compiles them; a real
// HTTP/1.1 server connection (exchange/http1/server.ts) reads each request from an in-memory
// transport, the gateway chain (filters/chains.ts, with the proxy's tracer and Istio metrics)
// routes it, the cluster's real connection pool writes it to an in-memory upstream that answers
// at once, and the response is written back. What is left out is only the socket layer
// (platform/), which floor-pipe and floor-http in `npm run bench` measure.
// Usage: bun bench/pipeline-js.ts [--requests 200000] [--rounds 5] [--connections 1]   (or deno run -A …)
// Prints µs per request for each round (wall time; one thread, nothing else to wait for).
import { loadConfig } from "../runtime/config/load.ts";
import { snapshotFromConfig } from "../adapters/static/from-config.ts";
import { compile } from "../runtime/model/compile.ts";
import { gatewayHandler } from "../runtime/filters/chains.ts";
import { gatewayXfccFilter } from "../runtime/filters/gateway-xfcc.ts";
import { createClusterStates } from "../runtime/upstream/cluster-state.ts";
import { createConnectionPool } from "../runtime/upstream/http1/index.ts";
import { createMirrorSender } from "../runtime/router/mirror.ts";
import { createObserver } from "../runtime/telemetry/observe.ts";
import { createIstioMetrics } from "../runtime/telemetry/istio-metrics.ts";
import { createRegistry } from "../runtime/telemetry/metrics.ts";
import { createTracer } from "../runtime/telemetry/trace-context.ts";
import { Http1ServerConnection } from "../runtime/exchange/http1/server.ts";
import { systemClock } from "../runtime/lib/clock.ts";
import type { Connect, Transport, TransportHandler } from "../runtime/platform/http1/transport.ts";
import type { PipelineDeps } from "../runtime/router/pipeline-deps.ts";
import { memoryIO } from "../test/config/memory-io.ts";
import { listenData } from "../runtime/exchange/listener.ts";
import { defaultConnect } from "../runtime/upstream/http1/index.ts";

const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const REQUESTS = Number(arg("requests", "200000"));
const ROUNDS = Number(arg("rounds", "5"));
const CONNECTIONS = Number(arg("connections", "1"));
/** serve on this port through the platform's sockets instead of looping in memory (for wrk) */
const LISTEN = arg("listen", "");
/** a real upstream (bench/upstream.ts) instead of the in-memory one */
const UPSTREAM = arg("upstream", "");
/** instead of timing: count the heap cells this many requests leave (Bun) */
const ALLOCATIONS = Number(arg("allocations", "0"));

const CONFIG = () => `apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: bench-upstream, namespace: default }
spec:
  hosts: [bench-upstream.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${UPSTREAM ? UPSTREAM.split(":")[1] : 9} }, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: bench-gateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [bench.example] }]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: bench-routes, namespace: default }
spec:
  hosts: [bench.example]
  gateways: [bench-gateway]
  http:
  - match: [{ uri: { prefix: /bench/ }, headers: { x-bench-route: { exact: v1 } } }]
    route: [{ destination: { host: bench-upstream.default.svc.cluster.local, port: { number: 8080 } } }]
`;

const encoder = new TextEncoder();
/** what wrk sends in the gateway rows */
const REQUEST = encoder.encode("GET /bench/hello HTTP/1.1\r\nHost: bench.example\r\nx-bench-route: v1\r\n\r\n");
/** what bench/upstream.ts (Bun.serve) answers, byte for byte but the date */
const BODY = "hello from the bench upstream";
const RESPONSE = encoder.encode(`HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\nDate: Sun, 06 Dec 2026 07:00:00 GMT\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`);
const TAIL = BODY.charCodeAt(BODY.length - 1);

/** what an in-memory transport does besides writing: nothing (no socket to pause or close) */
const IN_MEMORY = { pause() {}, resume() {}, ref() {}, end() {}, destroy() {} };

/** an upstream connection that answers every request head at once (on the next microtask, as a read would come later) */
const connectUpstream: Connect = (_host, _port, handler: TransportHandler): Transport => {
  queueMicrotask(() => handler.onOpen());
  return {
    write() {
      queueMicrotask(() => handler.onData(RESPONSE.slice()));
      return true;
    },
    ...IN_MEMORY,
  };
};

const loaded = await loadConfig(["bench.yaml"], { defaultNamespace: "default", ...memoryIO({ "bench.yaml": CONFIG() }) });
if (!loaded.config) throw new Error(`config: ${JSON.stringify(loaded.errors)}`);
const config = loaded.config;
const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } }, { random: Math.random, version: 1 });
const clusters = createClusterStates((limits) => createConnectionPool(limits, { connect: UPSTREAM ? defaultConnect : connectUpstream }), systemClock);
clusters.sync(table);
const newRequestId = () => crypto.randomUUID();
const metrics = createIstioMetrics(createRegistry(), { workload: "bench-gateway", namespace: "default", app: "bench-gateway" });
const deps: PipelineDeps = {
  upstream: { send: () => Promise.reject(new Error("not used")) },
  clusters,
  clock: systemClock,
  random: Math.random,
  newRequestId,
  mirror: createMirrorSender({ send: () => Promise.reject(new Error("not used")) }, Math.random),
  log: (message) => console.error(message),
  observer: process.argv.includes("--no-observer") ? undefined : createObserver({ reporter: "source", metrics }),
  tracer: process.argv.includes("--no-tracer") ? undefined : createTracer({ now: Date.now, newRequestId, samplingPercent: 1 }),
};
const handler = gatewayHandler({ table: { current: table }, select: (t) => t.gatewayPorts.get(80), port: 80, deps, security: () => undefined, filters: [gatewayXfccFilter()] });

if (LISTEN) {
  const server = listenData({ hostname: "127.0.0.1", port: Number(LISTEN) }, handler, (message) => console.error(message));
  console.log(`listening on ${server.hostname}:${server.port}`);
  await new Promise(() => {});
}

/** one downstream keep-alive connection: the next request is written when the last response ended */
function connection(port: number) {
  let answered: (() => void) | null = null;
  let first = "";
  const down: Transport = {
    write(data) {
      if (first.length < 4096) first += new TextDecoder("latin1").decode(data);
      if (data[data.byteLength - 1] === TAIL) answered?.();
      return true;
    },
    ...IN_MEMORY,
  };
  const server = new Http1ServerConnection(down, { remoteAddress: "127.0.0.1", remotePort: port }, {
    handler,
    onError: (error) => {
      throw error;
    },
    badRequest: (error) => {
      throw new Error(`bad request: ${error.details}`);
    },
    scheme: "http",
    lifecycle: { draining: false, closed() {} },
  });
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      answered = resolve;
      server.onData(REQUEST.slice());
    });
  return { one, first: () => first };
}

const connections = Array.from({ length: CONNECTIONS }, (_, i) => connection(40000 + i));
const [{ one, first: firstOf }] = connections;

// the first answer must be the upstream's, through the route
await one();
const first = firstOf();
if (!first.startsWith("HTTP/1.1 200 ") || !first.endsWith(BODY)) throw new Error(`not the upstream's answer:\n${first}`);
console.log(first.slice(0, first.indexOf("\r\n\r\n")).replaceAll("\r\n", " | "));
if (ALLOCATIONS > 0) {
  // JSC's census of heap cells by type, before and after ALLOCATIONS requests with no collection
  // asked for in between: what one request leaves behind (Bun only)
  if (!("Bun" in globalThis)) throw new Error("--allocations needs Bun (bun:jsc)");
  const jsc = await import("bun:jsc");
  for (let i = 0; i < 2000; i++) await one();
  (globalThis as unknown as { Bun: { gc(full: boolean): void } }).Bun.gc(true);
  const before = jsc.heapStats().objectTypeCounts as Record<string, number>;
  const n = ALLOCATIONS;
  for (let i = 0; i < n; i++) await one();
  const after = jsc.heapStats().objectTypeCounts as Record<string, number>;
  const rows = Object.keys(after).map((k) => [k, ((after[k] ?? 0) - (before[k] ?? 0)) / n] as const).filter(([, d]) => d > 0.05).sort((a, b) => b[1] - a[1]);
  console.log("heap cells per request, by type:");
  for (const [k, d] of rows) console.log(d.toFixed(2).padStart(7), k);
  process.exit(0);
}
for (let round = 0; round < ROUNDS; round++) {
  const start = performance.now();
  // each connection sends its share one request at a time, all at once: wrk's -c
  await Promise.all(connections.map(async (c) => {
    for (let i = 0; i < REQUESTS / CONNECTIONS; i++) await c.one();
  }));
  const us = ((performance.now() - start) * 1000) / REQUESTS;
  console.log(`round ${round + 1}: ${us.toFixed(2)} µs per request (${REQUESTS} requests)`);
}
