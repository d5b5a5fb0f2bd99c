// End to end, plain TCP through the gateway (issue 12 item 4, gateway slice): Istio's TCP
// traffic-shifting task — two tcp-echo upstreams ("one", "two"), a Gateway server with protocol
// TCP and a VirtualService `tcp` route 80/20 by weight — over 100 real connections; each one
// half-closes (the client ends, the upstream answers after the FIN, the client still reads it);
// Istio's TCP metrics count the connections and bytes; connect failures (UF), maxConnections (UO),
// no route (NR) close the client; sourceSubnet / destinationSubnets pick routes; access log lines.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { eventually, root, run, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";

interface Echo {
  server: net.Server;
  port: number;
  /** sockets open on the upstream now */
  open: Set<net.Socket>;
}

/**
 * tcp-echo as in Istio's sample, made to show half-close: the first bytes are answered with the
 * version prefix, every chunk is echoed at once, and after the client's FIN it writes "bye\n" and
 * closes its side.
 */
function startEcho(version: string): Promise<Echo> {
  const open = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    let first = true;
    socket.on("data", (chunk) => {
      if (first) socket.write(`${version} `);
      first = false;
      socket.write(chunk);
    });
    socket.on("end", () => socket.end("bye\n"));
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as net.AddressInfo).port, open })));
}

interface Exchange {
  text: string;
  /** the connection failed (reset) rather than closing cleanly */
  error?: string;
}

/** connects, sends message, half-closes and reads until the gateway closes the connection */
function exchange(address: string, message: string): Promise<Exchange> {
  const [host, port] = address.split(":");
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port), allowHalfOpen: true } as net.NetConnectOpts, () => {
      socket.write(message);
      socket.end();
    });
    let text = "";
    let error: string | undefined;
    socket.on("data", (d) => (text += d));
    socket.on("error", (e) => (error = e.message));
    socket.on("close", () => resolve({ text, error }));
  });
}

/** a connection kept open: each say() resolves with the next reply bytes */
function session(address: string): Promise<{ say(text: string, expect: string): Promise<void>; closed: Promise<string>; end(): void }> {
  const [host, port] = address.split(":");
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port), allowHalfOpen: true } as net.NetConnectOpts);
    let buffer = "";
    let waiter: { expect: string; done: () => void } | null = null;
    const closed = new Promise<string>((r) => socket.on("close", () => r(buffer)));
    socket.on("error", () => {});
    socket.on("data", (d) => {
      buffer += d;
      if (waiter && buffer.includes(waiter.expect)) waiter.done();
    });
    socket.once("connect", () =>
      resolve({
        say: (text, expect) =>
          new Promise<void>((done) => {
            waiter = { expect, done };
            socket.write(text);
          }),
        closed,
        end: () => socket.end(),
      }),
    );
    socket.once("error", reject);
  });
}

let one: Echo;
let two: Echo;
let gateway: Gateway;
let config: string;
const ports: Record<string, string> = {}; // gateway server port → 127.0.0.1:PORT
let deadPort: number;

const meshYaml = () => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: [tcp-echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints:
  - { address: 127.0.0.1, ports: { tcp: ${one.port} }, labels: { app: tcp-echo, version: v1 } }
  - { address: 127.0.0.1, ports: { tcp: ${two.port} }, labels: { app: tcp-echo, version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: tcp-echo, namespace: default }
spec:
  host: tcp-echo.default.svc.cluster.local
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: dead, namespace: default }
spec:
  hosts: [dead.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1, ports: { tcp: ${deadPort} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: limited, namespace: default }
spec:
  hosts: [limited.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: tcp, protocol: TCP }]
  endpoints: [{ address: 127.0.0.1, ports: { tcp: ${one.port} }, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: limited, namespace: default }
spec:
  host: limited.default.svc.cluster.local
  trafficPolicy:
    connectionPool: { tcp: { maxConnections: 1, connectTimeout: 2s } }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: tcp-echo-gateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 31400, name: tcp, protocol: TCP }
    hosts: ["*"]
  - port: { number: 31401, name: tcp-dead, protocol: TCP }
    hosts: ["*"]
  - port: { number: 31402, name: tcp-limited, protocol: TCP }
    hosts: ["*"]
  - port: { number: 31403, name: mongo, protocol: MONGO }
    hosts: ["*"]
  - port: { number: 31404, name: tcp-unrouted, protocol: TCP }
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: tcp-echo, namespace: default }
spec:
  hosts: ["*"]
  gateways: [tcp-echo-gateway]
  tcp:
  - match: [{ port: 31400 }]
    route:
    - { destination: { host: tcp-echo.default.svc.cluster.local, port: { number: 9000 }, subset: v1 }, weight: 80 }
    - { destination: { host: tcp-echo.default.svc.cluster.local, port: { number: 9000 }, subset: v2 }, weight: 20 }
  - match: [{ port: 31401 }]
    route: [{ destination: { host: dead.default.svc.cluster.local } }]
  - match: [{ port: 31402 }]
    route: [{ destination: { host: limited.default.svc.cluster.local } }]
  - match: [{ port: 31403, sourceSubnet: 10.0.0.0/8 }]
    route: [{ destination: { host: tcp-echo.default.svc.cluster.local, subset: v2 } }]
  - match: [{ port: 31403, destinationSubnets: [127.0.0.0/8] }]
    route: [{ destination: { host: tcp-echo.default.svc.cluster.local, subset: v1 } }]
`;

async function metrics(): Promise<string> {
  const res = await fetch(`http://${gateway.admin}/stats/prometheus`);
  return res.text();
}

/** the sum of a metric over the series whose labels include every given pair */
function sum(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

test.before(async () => {
  [one, two] = await Promise.all([startEcho("one"), startEcho("two")]);
  deadPort = await closedPort();
  config = await tempConfig({ "mesh.yaml": meshYaml() });
  const binds = ["31400", "31401", "31402", "31403", "31404"].flatMap((p) => ["--bind", `${p}=127.0.0.1:0`]);
  gateway = await startGateway(config, [...binds, "--access-log", "json"]);
  for (const p of ["31400", "31401", "31402", "31403", "31404"]) {
    [, ports[p]] = await gateway.child.waitFor(new RegExp(`gateway port ${p} listening on (\\S+) \\(tcp\\)`));
  }
});

test.after(async () => {
  stopAll();
  one.server.close();
  two.server.close();
  for (const s of [...one.open, ...two.open]) s.destroy();
  await platform.remove(config);
});

test("80/20 by weight over 100 connections, each half-closed and answered after the FIN", async () => {
  const counts: Record<string, number> = { one: 0, two: 0 };
  // ten at a time: bounded load on a shared machine
  for (let batch = 0; batch < 10; batch++) {
    const results = await Promise.all(Array.from({ length: 10 }, () => exchange(ports["31400"], "hello\n")));
    for (const r of results) {
      assert.is(r.error, undefined);
      // the echo, then what the upstream wrote after the client's FIN reached it
      const m = /^(one|two) hello\nbye\n$/.exec(r.text);
      assert.ok(m, `unexpected reply ${JSON.stringify(r.text)}`);
      counts[m![1]]++;
    }
  }
  assert.is(counts.one + counts.two, 100);
  // The pick is Math.random in the gateway process (not seedable from here). For X ~ Bin(100, 0.8),
  // P(X < 68) + P(X > 92) = 0.00155 + 0.00028 ≈ 0.18% per run: the chance this fails with a
  // correct picker. test/model/compile-tcp.test.ts checks the exact split with a fixed sequence.
  assert.ok(counts.one >= 68 && counts.one <= 92, `split ${counts.one}/${counts.two}`);

  // Istio's TCP metrics: every connection opened and closed, bytes both ways, per destination version
  const text = await eventually(async () => {
    const t = await metrics();
    return sum(t, "istio_tcp_connections_closed_total", { destination_service: "tcp-echo.default.svc.cluster.local", response_flags: "-" }) >= 100 && t;
  }, 5000, "100 closed connections in the metrics");
  for (const [name, version] of [["one", "v1"], ["two", "v2"]] as const) {
    const labels = { reporter: "source", destination_service: "tcp-echo.default.svc.cluster.local", destination_version: version, destination_app: "tcp-echo", request_protocol: "tcp", response_flags: "-" };
    assert.is(sum(text, "istio_tcp_connections_opened_total", labels), counts[name], `opened to ${version}`);
    assert.is(sum(text, "istio_tcp_connections_closed_total", labels), counts[name], `closed to ${version}`);
    // received from the client: "hello\n"; sent to it: "one " + "hello\n" + "bye\n"
    assert.is(sum(text, "istio_tcp_received_bytes_total", labels), counts[name] * 6, `received via ${version}`);
    assert.is(sum(text, "istio_tcp_sent_bytes_total", labels), counts[name] * 14, `sent via ${version}`);
  }
  assert.match(text, /# TYPE istio_tcp_sent_bytes_total counter/);
  // an access log line per connection, in Istio's JSON shape for TCP (no method, path or code)
  // (the writer flushes in batches on a timer: wait for the line)
  const line = await eventually(async () => gateway.child.lines.map((l) => (l.startsWith("{") ? JSON.parse(l) : null)).find((j) => j?.upstream_cluster === "outbound|9000|v1|tcp-echo.default.svc.cluster.local"), 5000, "an access log line for the v1 cluster");
  assert.equal([line.method, line.path, line.response_code, line.response_flags, line.bytes_received, line.bytes_sent], [null, null, 0, "-", 6, 14]);
  assert.is(line.route_name, "default/tcp-echo#tcp0");
});

test("promtool check metrics accepts the TCP metrics", async () => {
  const tools = await run("bash", [`${root}scripts/ensure-tools.sh`, "promtool"]);
  assert.is(tools.code, 0, tools.out);
  const text = await metrics();
  assert.match(text, /istio_tcp_connections_opened_total\{/);
  const file = `${config}/metrics.txt`;
  await platform.writeTextFile(file, text);
  const check = await run("sh", ["-c", 'promtool check metrics < "$1"', "sh", file]);
  // exit 3 is lint only; the one lint Istio's own names raise (milliseconds) is accepted, as in prometheus.test.ts
  const lint = check.out.split("\n").filter((l) => l.trim() && !/^istio_request_duration_milliseconds use base unit/.test(l.trim()));
  assert.ok(check.code === 0 || (check.code === 3 && lint.length === 0), `promtool check metrics exited ${check.code}:\n${check.out}`);
});

test("a larger stream passes both ways intact", async () => {
  const big = "x".repeat(300_000) + "\n";
  const r = await exchange(ports["31400"], big);
  assert.is(r.error, undefined);
  assert.ok(r.text === `one ${big}bye\n` || r.text === `two ${big}bye\n`, `got ${r.text.length} bytes`);
});

test("a failed connect closes the client with nothing sent (UF), counted in the metrics", async () => {
  const r = await exchange(ports["31401"], "hello\n");
  assert.is(r.text, "");
  const text = await eventually(async () => {
    const t = await metrics();
    return sum(t, "istio_tcp_connections_closed_total", { destination_service: "dead.default.svc.cluster.local", response_flags: "UF" }) === 1 && t;
  }, 5000, "a UF connection in the metrics");
  assert.is(sum(text, "istio_tcp_connections_opened_total", { destination_service: "dead.default.svc.cluster.local", response_flags: "UF" }), 1);
});

test("connectionPool.tcp.maxConnections: a second connection is closed (UO) while the first runs on", async () => {
  const first = await session(ports["31402"]);
  await first.say("a", "one a");
  const second = await exchange(ports["31402"], "b");
  assert.is(second.text, "");
  // the first still carries bytes both ways, then closes cleanly after its FIN
  await first.say("c", "one ac");
  first.end();
  assert.is(await first.closed, "one acbye\n");
  const text = await metrics();
  assert.is(sum(text, "istio_tcp_connections_closed_total", { destination_service: "limited.default.svc.cluster.local", response_flags: "UO" }), 1);
  // and with the first gone, a new connection is taken
  const third = await eventually(async () => {
    const r = await exchange(ports["31402"], "d");
    return r.text === "one dbye\n" && r;
  }, 5000, "a connection after the first closed");
  assert.ok(third);
});

test("sourceSubnet and destinationSubnets choose the route (MONGO is carried as TCP)", async () => {
  // the client is 127.0.0.1, not in 10.0.0.0/8; the gateway's address is in 127.0.0.0/8
  const r = await exchange(ports["31403"], "hi");
  assert.is(r.text, "one hibye\n");
});

test("a TCP port without a matching route closes the connection (NR)", async () => {
  const r = await exchange(ports["31404"], "hi");
  assert.is(r.text, "");
  const text = await eventually(async () => {
    const t = await metrics();
    return sum(t, "istio_tcp_connections_closed_total", { response_flags: "NR" }) === 1 && t;
  }, 5000, "an NR connection in the metrics");
  assert.ok(text);
});

test("a reload applies to new connections, and a port moves from TCP to HTTP", async () => {
  const changed = meshYaml()
    .replace("weight: 80 }", "weight: 0 }")
    .replace("weight: 20 }", "weight: 100 }")
    .replace("{ number: 31404, name: tcp-unrouted, protocol: TCP }", "{ number: 31404, name: http-now, protocol: HTTP }");
  assert.ok(changed.includes("weight: 100 }") && changed.includes("http-now"));
  const before = gateway.child.lines.length;
  await platform.writeTextFile(`${config}/mesh.yaml`, changed);
  const [, http] = await eventually(async () => gateway.child.lines.slice(before).map((l) => /gateway port 31404 listening on (\S+)$/.exec(l)).find((m): m is RegExpExecArray => m !== null), 10_000, "port 31404 reopened as HTTP");
  // every new connection now goes to "two"
  const replies = await Promise.all(Array.from({ length: 10 }, () => exchange(ports["31400"], "x")));
  assert.equal(replies.map((r) => r.text), Array(10).fill("two xbye\n"));
  // an HTTP request on the old TCP port: routed as HTTP (no VirtualService for the host: 404 NR)
  const res = await fetch(`http://${http}/`, { headers: { host: "nothing.example" } });
  assert.is(res.status, 404);
  assert.is(res.headers.get("x-dietmesh-response-flags"), "NR");
});

test.run();
