// The gateway's L4 proxy with fake channels and a fake connect: a failed connect closes the client
// with flag UF and counts against the host in outlier detection (the ejected host gets no more
// connections), a connect timeout is UF too, and a spliced connection's
// bytes land in Istio's TCP metrics once both sides have closed.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { createClusterStates } from "../../runtime/upstream/cluster-state.ts";
import { poolOverClient } from "../../runtime/upstream/client-pool.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { createRegistry } from "../../runtime/telemetry/metrics.ts";
import { createIstioTcpMetrics } from "../../runtime/telemetry/tcp-metrics.ts";
import { createTcpProxy, type TcpConnection } from "../../runtime/l4/tcp-proxy.ts";
import type { ByteChannel, ByteSink } from "../../runtime/exchange/types.ts";
import type { AccessLogEntry } from "../../runtime/telemetry/access-log.ts";
import { memoryIO } from "../config/memory-io.ts";
import { seededRandom } from "../resilience/seeded-random.ts";

class FakeChannel implements ByteChannel {
  sink: ByteSink | null = null;
  written: string[] = [];
  ended = false;
  destroyed = false;
  attach(sink: ByteSink): void {
    this.sink = sink;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(new TextDecoder().decode(bytes));
    return true;
  }
  pause(): void {}
  resume(): void {}
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

const YAML = (outlier: string, pool = "") => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: db, namespace: default }
spec:
  hosts: [db.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 5432, name: tcp, protocol: TCP }]
  endpoints: [{ address: 10.0.0.1, labels: { version: a } }, { address: 10.0.0.2, labels: { version: b } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: db, namespace: default }
spec:
  host: db.default.svc.cluster.local
  trafficPolicy:
    connectionPool: { tcp: { connectTimeout: 250ms${pool} } }
${outlier}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 5432, name: tcp, protocol: TCP }, hosts: ["*"] }, { port: { number: 5433, name: tcp-2, protocol: TCP }, hosts: ["*"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: db, namespace: default }
spec:
  hosts: ["*"]
  gateways: [edge]
  tcp: [{ route: [{ destination: { host: db.default.svc.cluster.local } }] }]
`;

const CONN: TcpConnection = { port: 5432, remoteAddress: "127.0.0.1", remotePort: 40000, localAddress: "127.0.0.1", localPort: 5432, sourceIp: "127.0.0.1", destinationIp: "127.0.0.1" };

async function setup(outlier: string, connect: (host: string, port: number, timeoutMs: number) => Promise<ByteChannel>, pool = "", random: () => number = Math.random) {
  const loaded = await loadConfig(["m.yaml"], { defaultNamespace: "default", ...memoryIO({ "m.yaml": YAML(outlier, pool) }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "gateway", namespace: "default", labels: { istio: "ingressgateway" } }, { random, version: 1 });
  const clock = createFakeClock(1000);
  const clusters = createClusterStates(() => poolOverClient({ send: () => Promise.reject(new Error("no HTTP here")) }), clock);
  clusters.sync(table);
  const registry = createRegistry();
  const logged: AccessLogEntry[] = [];
  const proxy = createTcpProxy({
    routes: (port) => table.gatewayTcp.get(port),
    clusters,
    metrics: createIstioTcpMetrics(registry, {}),
    accessLog: () => ({ log: (e: AccessLogEntry) => logged.push(e), flush: async () => {}, stats: () => ({ written: 0, dropped: 0, queued: 0, failed: 0 }) }),
    clock,
    connect,
    log: () => {},
  });
  return { proxy, registry, logged, clusters, table, clock };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test("connect failures eject the host (outlier detection); later connections go to the other", async () => {
  const attempts: string[] = [];
  const { proxy, logged } = await setup("    outlierDetection: { consecutive5xxErrors: 1, interval: 10s, baseEjectionTime: 1m, maxEjectionPercent: 100 }", async (host) => {
    attempts.push(host);
    if (host === "10.0.0.1") throw Object.assign(new Error("refused"), { failure: "connect" });
    return new FakeChannel();
  });
  // 30 connections: the balancer picks among both hosts until 10.0.0.1 has failed once. The chance
  // that it is never picked in 30 tries is below 2^-30 (each pick chooses it with p >= 1/2).
  for (let i = 0; i < 30; i++) {
    proxy.handle(new FakeChannel(), CONN);
    await settle();
  }
  assert.is(attempts.filter((h) => h === "10.0.0.1").length, 1, attempts.join(","));
  assert.is(attempts.length, 30);
  const failed = logged.filter((e) => e.responseFlags === "UF");
  assert.is(failed.length, 1);
  assert.is(failed[0].responseCodeDetails, "upstream_connect_failure");
  assert.is(failed[0].upstreamHost, "10.0.0.1:5432");
});

test("a connect timeout is UF with its own detail, counted in the metrics", async () => {
  const { proxy, logged, registry } = await setup("", async (_host, _port, timeoutMs) => {
    assert.is(timeoutMs, 250); // the DestinationRule's connectTimeout
    throw Object.assign(new Error("timed out"), { failure: "connect-timeout" });
  });
  const downstream = new FakeChannel();
  proxy.handle(downstream, CONN);
  await settle();
  assert.ok(downstream.destroyed);
  assert.is(logged[0].responseFlags, "UF");
  assert.is(logged[0].responseCodeDetails, "upstream_connect_timeout");
  const text = registry.expose();
  assert.match(text, /istio_tcp_connections_opened_total\{[^}]*destination_service="db.default.svc.cluster.local"[^}]*response_flags="UF"[^}]*\} 1/);
  assert.match(text, /istio_tcp_connections_closed_total\{[^}]*response_flags="UF"[^}]*\} 1/);
});

test("a spliced connection: bytes both ways, FINs passed on, metrics and log at the end", async () => {
  const upstreams: FakeChannel[] = [];
  const { proxy, registry, logged } = await setup("", async () => {
    const c = new FakeChannel();
    upstreams.push(c);
    return c;
  });
  const downstream = new FakeChannel();
  proxy.handle(downstream, CONN);
  await settle();
  const upstream = upstreams[0];
  assert.ok(downstream.sink && upstream.sink, "both sides attached");
  downstream.sink!.onData(new TextEncoder().encode("ping"));
  assert.equal(upstream.written, ["ping"]);
  // the client half-closes: the upstream gets a FIN, and its reply still reaches the client
  downstream.sink!.onClose(null);
  assert.ok(upstream.ended);
  upstream.sink!.onData(new TextEncoder().encode("pong!"));
  assert.equal(downstream.written, ["pong!"]);
  assert.not.ok(downstream.ended);
  upstream.sink!.onClose(null);
  await settle();
  assert.ok(downstream.ended, "the client's side is ended once the upstream closed");
  assert.equal([logged[0].bytesReceived, logged[0].bytesSent, logged[0].responseFlags], [4, 5, ""]);
  const text = registry.expose();
  assert.match(text, /istio_tcp_received_bytes_total\{[^}]*destination_service="db.default.svc.cluster.local"[^}]*request_protocol="tcp"[^}]*\} 4/);
  assert.match(text, /istio_tcp_sent_bytes_total\{[^}]*\} 5/);
  assert.match(text, /istio_tcp_connections_closed_total\{[^}]*response_flags="-"[^}]*\} 1/);
});

test("maxConnections counts the cluster's connections from every gateway port (UO over it)", async () => {
  const upstreams: FakeChannel[] = [];
  const { proxy, logged } = await setup("", async () => {
    const c = new FakeChannel();
    upstreams.push(c);
    return c;
  }, ", maxConnections: 1");
  const first = new FakeChannel();
  proxy.handle(first, CONN);
  await settle();
  assert.is(upstreams.length, 1);
  const second = new FakeChannel();
  proxy.handle(second, { ...CONN, port: 5433 });
  await settle();
  assert.ok(second.destroyed);
  assert.is(upstreams.length, 1);
  assert.equal([logged[0].responseFlags, logged[0].responseCodeDetails], ["UO", "upstream_max_connections"]);
  // the first closes (both sides): the next connection is taken
  upstreams[0].sink!.onClose(null);
  first.sink!.onClose(null);
  await settle();
  proxy.handle(new FakeChannel(), { ...CONN, port: 5433 });
  await settle();
  assert.is(upstreams.length, 2);
});

test("connectionPool.tcp.idleTimeout closes both sides after that long without a byte", async () => {
  const upstreams: FakeChannel[] = [];
  const { proxy, logged, clock } = await setup("", async () => {
    const c = new FakeChannel();
    upstreams.push(c);
    return c;
  }, ", idleTimeout: 5s");
  const downstream = new FakeChannel();
  proxy.handle(downstream, CONN);
  await settle();
  downstream.sink!.onData(new TextEncoder().encode("a"));
  clock.advance(4000);
  downstream.sink!.onData(new TextEncoder().encode("b")); // activity: the idle period starts again
  clock.advance(4000);
  assert.not.ok(downstream.destroyed);
  clock.advance(8000);
  await settle();
  assert.ok(downstream.destroyed && upstreams[0].destroyed);
  assert.equal([logged[0].responseCodeDetails, logged[0].bytesReceived], ["idle_timeout", 2]);
});

test("consistentHash.useSourceIp: a client's connections all go to one host, chosen by its address", async () => {
  const run = async (lb: string) => {
    const attempts: string[] = [];
    const { proxy } = await setup(lb, async (host) => {
      attempts.push(host);
      return new FakeChannel();
    }, "", seededRandom(7));
    const from = async (ip: string) => {
      const before = attempts.length;
      for (let i = 0; i < 8; i++) {
        proxy.handle(new FakeChannel(), { ...CONN, remoteAddress: ip, remotePort: 40000 + i, sourceIp: ip });
        await settle();
      }
      return new Set(attempts.slice(before));
    };
    const hosts: Set<string>[] = [];
    for (let n = 1; n <= 12; n++) hosts.push(await from(`10.1.0.${n}`));
    return hosts;
  };
  const hashed = await run("    loadBalancer: { consistentHash: { useSourceIp: true } }");
  assert.ok(hashed.every((h) => h.size === 1), "each source IP keeps its host");
  assert.is(new Set(hashed.map((h) => [...h][0])).size, 2, "the addresses spread over both hosts");
  // a key TCP has nothing to read from (a header): the ring picks at random, as Envoy's tcp_proxy
  const unkeyed = await run("    loadBalancer: { consistentHash: { httpHeaderName: x-user } }");
  assert.ok(unkeyed.some((h) => h.size === 2), "without a key a client's connections spread");
});

test("tls.mode SIMPLE on a port only the registry declares TCP: closed with UF, nothing connected or wrapped", async () => {
  const attempts: string[] = [];
  const { proxy, logged } = await setup("    tls: { mode: SIMPLE }", async (host) => {
    attempts.push(host);
    return new FakeChannel();
  });
  const client = new FakeChannel();
  proxy.handle(client, CONN);
  await settle();
  assert.ok(client.destroyed);
  assert.equal(attempts, []);
  assert.equal([logged[0].responseFlags, logged[0].responseCodeDetails], ["UF", "upstream_tls_origination_not_supported"]);
});

test.run();
