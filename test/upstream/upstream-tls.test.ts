// Mesh mTLS targets (runtime/upstream/upstream-tls.ts) against real TLS servers on loopback that
// record the ClientHello's server name: a DestinationRule's tls.sni with ISTIO_MUTUAL is the SNI
// the sidecar sends (HTTP/1.1 on the runtime's own mesh transport, and HTTP/2), which Istio's
// egress gateway picks its server by; without sni nothing changes (each runtime's own default).
// tls.subjectAltNames with ISTIO_MUTUAL replaces the registry's identity as the accepted SPIFFE IDs.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as tls from "node:tls";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { platform, type TlsCredentials } from "../../runtime/platform/index.ts";
import { connectHttp2 } from "../../runtime/platform/http2-connect.ts";
import { defaultConnect, meshConnect, type TlsTarget } from "../../runtime/upstream/http1/index.ts";
import { tlsTargets, type MeshTls } from "../../runtime/upstream/upstream-tls.ts";
import { createHost } from "../../runtime/resilience/balancers/host-set.ts";
import type { ClientTLSSettings } from "../../runtime/config/types.ts";
import type { Cluster } from "../../runtime/model/route-table.ts";
import type { Endpoint } from "../../runtime/model/types.ts";
import { must } from "../support/mesh.ts";

const SERVER_ID = "spiffe://cluster.local/ns/egress/sa/gateway";
let work: string;
let client: TlsCredentials;
let mesh: MeshTls;
let serverPem: { key: string; cert: string; ca: string };
/** SNI per accepted connection, "" for none */
const heard: string[] = [];
const closers: (() => void)[] = [];
let tlsPort = 0;
let h2Port = 0;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-upstream-sni-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "egress", "--service-account", "gateway", "--out", `${work}/server`]);
  await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "sleep", "--out", `${work}/client`]);
  const read = (f: string) => platform.readTextFile(`${work}/${f}`);
  serverPem = { key: await read("server/key.pem"), cert: await read("server/cert-chain.pem"), ca: await read("server/root-cert.pem") };
  client = { certChainPem: await read("client/cert-chain.pem"), keyPem: await read("client/key.pem"), rootCertsPem: await read("client/root-cert.pem") } as TlsCredentials;
  mesh = { credentials: () => client, trustDomain: "cluster.local" };

  const record = (socket: tls.TLSSocket) => heard.push((socket as unknown as { servername?: string | false }).servername || "");
  const server = tls.createServer({ ...serverPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      record(socket);
      socket.end("ok");
    });
  });
  server.on("tlsClientError", () => {});
  // a client that refused the server's identity leaves mid-handshake: its socket is ended here too
  server.on("connection", (socket) => closers.push(() => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  tlsPort = (server.address() as AddressInfo).port;
  closers.push(() => server.close());

  const h2 = http2.createSecureServer({ ...serverPem, requestCert: true, rejectUnauthorized: true });
  h2.on("session", (session: http2.ServerHttp2Session) => {
    closers.push(() => session.destroy());
    record(session.socket as tls.TLSSocket);
  });
  h2.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok");
  });
  await new Promise<void>((resolve) => h2.listen(0, "127.0.0.1", () => resolve()));
  h2Port = (h2.address() as AddressInfo).port;
  closers.push(() => h2.close());
});

test.after(async () => {
  for (const close of closers) close();
  if (work) await platform.remove(work);
});

/** a cluster of one loopback endpoint with this DestinationRule tls (registry identity optional) */
function cluster(port: number, tlsSettings: ClientTLSSettings | undefined, identity?: string, labels: Record<string, string> = {}): Cluster {
  const endpoint: Endpoint = { address: "127.0.0.1", ports: {}, labels, ready: true, ...(identity ? { identity } : {}) };
  return {
    name: `outbound|${port}|nginx|istio-egressgateway.istio-system.svc.cluster.local`,
    service: { hostname: "istio-egressgateway.istio-system.svc.cluster.local" },
    hosts: [createHost(endpoint, port)],
    policy: tlsSettings ? { tls: tlsSettings } : {},
  } as unknown as Cluster;
}

function targetOf(c: Cluster): TlsTarget {
  const target = tlsTargets(c, mesh).get(c.hosts[0].address);
  assert.ok(target, "the endpoint is reached over mTLS");
  return target!;
}

/** fails the test instead of hanging it when a promise never settles (a bound, not a timing assertion) */
function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: never settled`)), 15_000)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/** one HTTP/1.1-transport connection: null once it opened and the server answered, else the error */
function exchange(target: TlsTarget): Promise<string | null> {
  return bounded(
    "mesh connection",
    new Promise((resolve) => {
      let answered = false;
      const transport = meshConnect(defaultConnect, () => target)("127.0.0.1", tlsPort, {
        onOpen: () => void transport.write(new TextEncoder().encode("hello")),
        onData: () => {
          answered = true;
          transport.destroy();
          resolve(null);
        },
        onDrain: () => {},
        onClose: (error) => resolve(answered ? null : (error?.message ?? "closed before an answer")),
      });
    }),
  );
}

test("ISTIO_MUTUAL with sni: the ClientHello carries that name (the runtime's mesh transport)", async () => {
  const before = heard.length;
  assert.is(await exchange(targetOf(cluster(tlsPort, { mode: "ISTIO_MUTUAL", sni: "nginx.example.com" }))), null);
  assert.equal(heard.slice(before), ["nginx.example.com"]);
});

test("ISTIO_MUTUAL without sni: unchanged, the runtime's own (none on Deno, the address text on Bun)", async () => {
  const before = heard.length;
  const target = targetOf(cluster(tlsPort, { mode: "ISTIO_MUTUAL" }));
  assert.is(target.serverName, undefined);
  assert.is(await exchange(target), null);
  const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  assert.equal(heard.slice(before), [isBun ? "127.0.0.1" : ""]);
});

test("ISTIO_MUTUAL with sni over HTTP/2: the ClientHello carries that name", async () => {
  const before = heard.length;
  const session = await bounded("h2 connect", connectHttp2("127.0.0.1", h2Port, 10_000, targetOf(cluster(h2Port, { mode: "ISTIO_MUTUAL", sni: "nginx.example.com" }))));
  const response = await bounded("h2 request", session.request({ ":method": "GET", ":path": "/", ":scheme": "https", ":authority": "x" }, null, undefined));
  await new Response(response.body).text();
  session.close();
  assert.equal(heard.slice(before), ["nginx.example.com"]);
});

test("auto mTLS (no mode) to a mesh endpoint also sends a given sni; DISABLE and origination keep theirs", () => {
  assert.is(targetOf(cluster(tlsPort, { sni: "nginx.example.com" }, SERVER_ID)).serverName, "nginx.example.com");
  assert.is(tlsTargets(cluster(tlsPort, { mode: "DISABLE", sni: "nginx.example.com" }), mesh).size, 0);
  const simple = targetOf(cluster(tlsPort, { mode: "SIMPLE", sni: "api.example.com" }));
  assert.is(simple.origination?.serverName, "api.example.com");
});

test("ISTIO_MUTUAL subjectAltNames: checked instead of the registry's identity", async () => {
  // the registry says another account; the DestinationRule lists the server's: accepted
  assert.is(await exchange(targetOf(cluster(tlsPort, { mode: "ISTIO_MUTUAL", subjectAltNames: [SERVER_ID] }, "spiffe://cluster.local/ns/egress/sa/other"))), null);
  // the registry says the server's account; the DestinationRule lists another: refused
  const refused = await exchange(targetOf(cluster(tlsPort, { mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/egress/sa/other"] }, SERVER_ID)));
  assert.ok(refused && refused.includes("is not one of spiffe://cluster.local/ns/egress/sa/other"), String(refused));
  // and without subjectAltNames the registry's identity is what counts
  const wrongRegistry = await exchange(targetOf(cluster(tlsPort, { mode: "ISTIO_MUTUAL" }, "spiffe://cluster.local/ns/egress/sa/other")));
  assert.ok(wrongRegistry && wrongRegistry.includes("is not one of"), String(wrongRegistry));
});

test.run();
