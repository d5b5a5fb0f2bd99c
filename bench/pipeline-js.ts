// The gateway row's request path in one process, with the sockets taken away: what dietmesh's own
// code costs per request, without the kernel and the host's noise around it. The bench's Gateway
// and VirtualService (bench/run.sh's gateway rows) are compiled as a gateway compiles them; a real
// HTTP/1.1 server connection (exchange/http1/server.ts) reads each request from an in-memory
// transport, the gateway chain (filters/chains.ts, with Istio metrics; trace context only with
// --tracer, as a proxy has a tracer only where it exports spans) routes it, the cluster's real connection pool writes it to an in-memory upstream that answers
// at once, and the response is written back. What is left out is only the socket layer
// (platform/), which floor-pipe and floor-http in `npm run bench` measure.
// Usage: bun bench/pipeline-js.ts [--requests 200000] [--rounds 5] [--connections 1] [--mesh]   (or deno run -A …)
//   --mesh: the mesh row instead (sidecar A's outbound chain to sidecar B's inbound chain, as over
//     mTLS, to the app): both proxies' code per request
//   --tracer: with trace context, as a proxy that exports spans (the bench's rows export none, and a
//     proxy without an exporter has no tracer); --no-observer: without metrics (what each costs)
// Prints µs per request for each round (wall time; one thread, nothing else to wait for).
import { loadConfig } from "../runtime/config/load.ts";
import { snapshotFromConfig } from "../adapters/static/from-config.ts";
import { compile } from "../runtime/model/compile.ts";
import { gatewayHandler, inboundHandler, outboundHandler } from "../runtime/filters/chains.ts";
import { authorityPort } from "../runtime/model/hosts.ts";
import { encodePeerMetadata } from "../runtime/telemetry/peer-metadata.ts";
import type { DataHandler } from "../runtime/exchange/types.ts";
import type { ConnInfo } from "../runtime/platform/types.ts";
import { gatewayXfccFilter } from "../runtime/filters/gateway-xfcc.ts";
import { createClusterStates } from "../runtime/upstream/cluster-state.ts";
import { createConnectionPool, createPoolClient, defaultConnect, DEFAULT_POOL_LIMITS } from "../runtime/upstream/http1/index.ts";
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
import { serviceEntry } from "../test/support/mesh.ts";
import { listenData } from "../runtime/exchange/listener.ts";

/** a --name value from the command line (also read by bench/pipeline-alloc.ts, which imports this file) */
export const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const REQUESTS = Number(arg("requests", "200000"));
const ROUNDS = Number(arg("rounds", "5"));
const CONNECTIONS = Number(arg("connections", "1"));
/** the mesh hop instead of the gateway: sidecar A's outbound chain, then sidecar B's inbound chain as over mTLS */
const MESH = process.argv.includes("--mesh");
/** serve on this port through the platform's sockets instead of looping in memory (for wrk) */
const LISTEN = arg("listen", "");
/** a real upstream (bench/upstream.ts) instead of the in-memory one */
const UPSTREAM = arg("upstream", "");
/** instead of timing: count the heap cells this many requests leave (Bun) */
const ALLOCATIONS = Number(arg("allocations", "0"));

if (MESH && (UPSTREAM || LISTEN)) throw new Error("--mesh runs in memory only: not with --upstream or --listen");

const CONFIG = `${serviceEntry("bench-upstream", "bench-upstream.default.svc.cluster.local", [{ address: `127.0.0.1:${UPSTREAM ? UPSTREAM.split(":")[1] : 9}`, labels: { version: "v1" } }])}---
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

/** the mesh row's layout (bench/run.sh): one service in the mesh, B's sidecar in front of the app */
const MESH_CONFIG = serviceEntry("b", "b.default.svc.cluster.local", [{ address: "127.0.0.1:15006", labels: { version: "v1" }, serviceAccount: "b" }]);

const encoder = new TextEncoder();
/** what wrk sends in the gateway rows */
const REQUEST = MESH
  ? encoder.encode("GET /bench/hello HTTP/1.1\r\nHost: b.default.svc.cluster.local:8080\r\n\r\n")
  : encoder.encode("GET /bench/hello HTTP/1.1\r\nHost: bench.example\r\nx-bench-route: v1\r\n\r\n");
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

const OBSERVE = !process.argv.includes("--no-observer");
const newRequestId = () => crypto.randomUUID();
const notUsed = { send: () => Promise.reject(new Error("not used")) };
/** what every proxy here shares; each adds its clusters, observer and peer metadata */
const common = {
  upstream: notUsed,
  clock: systemClock,
  random: Math.random,
  newRequestId,
  mirror: createMirrorSender(notUsed, Math.random),
  log: (message: string) => console.error(message),
  tracer: !process.argv.includes("--tracer") ? undefined : createTracer({ now: Date.now, newRequestId, samplingPercent: 1 }),
};

/** a proxy's route table from config text, as its kind and labels compile it */
async function tableOf(text: string, proxy: Parameters<typeof compile>[2]) {
  const loaded = await loadConfig(["bench.yaml"], { defaultNamespace: "default", ...memoryIO({ "bench.yaml": text }) });
  if (!loaded.config) throw new Error(`config: ${JSON.stringify(loaded.errors)}`);
  const c = loaded.config;
  return compile(c, snapshotFromConfig(c.serviceEntries, c.workloadEntries), proxy, { random: Math.random, version: 1 });
}

/** the cluster state of a table whose pools connect with connect */
function clustersOf(table: Awaited<ReturnType<typeof tableOf>>, connect: Connect) {
  const clusters = createClusterStates((limits) => createConnectionPool(limits, { connect }), systemClock);
  clusters.sync(table);
  return clusters;
}

/** the gateway row: port 80's chain, its cluster's pool to the in-memory (or --upstream) upstream */
async function gateway(): Promise<DataHandler> {
  const table = await tableOf(CONFIG, { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } });
  const self = { workload: "bench-gateway", namespace: "default", app: "bench-gateway" };
  const deps: PipelineDeps = {
    ...common,
    clusters: clustersOf(table, UPSTREAM ? defaultConnect : connectUpstream),
    observer: OBSERVE ? createObserver({ reporter: "source", metrics: createIstioMetrics(createRegistry(), self) }) : undefined,
  };
  return gatewayHandler({ table: { current: table }, select: (t) => t.gatewayPorts.get(80), port: 80, deps, security: () => undefined, filters: [gatewayXfccFilter()] });
}

const handler = MESH ? await meshHop() : await gateway();

/**
 * Sidecar A's outbound chain whose cluster pool connects, in memory, to sidecar B's inbound chain
 * (served by its own HTTP/1.1 server connection, with A's SPIFFE identity as an mTLS listener
 * would report it), whose app is the in-memory upstream: both proxies' code, no TLS and no sockets.
 */
async function meshHop(): Promise<DataHandler> {
  const tableA = await tableOf(MESH_CONFIG, { kind: "sidecar", namespace: "default", labels: { app: "a" } });
  const selfA = { workload: "a", namespace: "default", app: "a", principal: "spiffe://cluster.local/ns/default/sa/a" };
  const selfB = { workload: "b", namespace: "default", app: "b", principal: "spiffe://cluster.local/ns/default/sa/b" };
  const fromA: ConnInfo = { remoteAddress: "127.0.0.1", remotePort: 40001, secure: true, peer: { uris: [selfA.principal], der: new Uint8Array(0) } };
  const appClient = createPoolClient(createConnectionPool(DEFAULT_POOL_LIMITS, { connect: connectUpstream }));
  const depsB: PipelineDeps = {
    ...common,
    upstream: appClient,
    clusters: createClusterStates((limits) => createConnectionPool(limits, { connect: connectUpstream }), systemClock),
    peerMetadata: encodePeerMetadata(selfB),
  };
  const inbound = inboundHandler({
    app: "127.0.0.1:9",
    deps: depsB,
    observer: OBSERVE ? createObserver({ reporter: "destination", metrics: createIstioMetrics(createRegistry(), selfB), localService: { host: "b.default.svc.cluster.local", name: "b", namespace: "default" } }) : undefined,
    localId: () => selfB.principal,
    security: () => undefined,
    appPort: 9,
  });
  /** A's connection to B: its bytes are B's server connection's reads, B's writes are its reads */
  const connectToB: Connect = (_host, _port, handlerA: TransportHandler): Transport => {
    const toA: Transport = {
      write(data) {
        queueMicrotask(() => handlerA.onData(data));
        return true;
      },
      ...IN_MEMORY,
    };
    const b = serverOn(toA, fromA, inbound);
    queueMicrotask(() => handlerA.onOpen());
    return {
      write(data) {
        queueMicrotask(() => b.onData(data));
        return true;
      },
      ...IN_MEMORY,
    };
  };
  const depsA: PipelineDeps = {
    ...common,
    clusters: clustersOf(tableA, connectToB),
    observer: OBSERVE ? createObserver({ reporter: "source", metrics: createIstioMetrics(createRegistry(), selfA) }) : undefined,
    peerMetadata: encodePeerMetadata(selfA),
  };
  return outboundHandler({ table: { current: tableA }, select: (t) => t.outbound, port: (authority) => authorityPort(authority) ?? 80, deps: depsA });
}

if (LISTEN) {
  const server = listenData({ hostname: "127.0.0.1", port: Number(LISTEN) }, handler, (message) => console.error(message));
  console.log(`listening on ${server.hostname}:${server.port}`);
  await new Promise(() => {});
}

/** dietmesh's HTTP/1.1 server on one connection, handing requests to handler */
function serverOn(socket: Transport, conn: ConnInfo, chain: DataHandler): Http1ServerConnection {
  return new Http1ServerConnection(socket, conn, {
    handler: chain,
    onError: (error) => {
      throw error;
    },
    badRequest: (error) => {
      throw new Error(`bad request: ${error.details}`);
    },
    scheme: "http",
    lifecycle: { draining: false, closed() {} },
  });
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
  const server = serverOn(down, { remoteAddress: "127.0.0.1", remotePort: port }, handler);
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
/**
 * µs per request over `requests` requests, each connection sending its share one request at a
 * time, all at once (wrk's -c). Exported so a driver can import this file from two trees into one
 * process and alternate rounds between them: an A/B that the host's swings hit on both sides alike.
 */
export async function measure(requests: number): Promise<number> {
  const start = performance.now();
  await Promise.all(connections.map(async (c) => {
    for (let i = 0; i < requests / CONNECTIONS; i++) await c.one();
  }));
  return ((performance.now() - start) * 1000) / requests;
}

if (import.meta.main) {
  for (let round = 0; round < ROUNDS; round++) {
    const us = await measure(REQUESTS);
    console.log(`round ${round + 1}: ${us.toFixed(2)} µs per request (${REQUESTS} requests)`);
  }
}
