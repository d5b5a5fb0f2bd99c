// The gateway's TCP ports: one listener per port where a Gateway selecting this proxy declares a
// server with protocol TCP (or MONGO, REDIS, MYSQL), each connection handed to the L4 proxy
// (l4/tcp-proxy.ts) with the routes of the table in force when it arrives. Listeners follow config
// changes like the HTTP ones in gateway.ts; a port changing between HTTP and TCP waits for the
// other kind's listener to let go of it. TLS passthrough ports (tls.mode PASSTHROUGH,
// AUTO_PASSTHROUGH) are such ports too: the ClientHello is read first (l4/hello-sniffer.ts) and its
// SNI chooses the `tls` route.
import type { Server } from "../platform/index.ts";
import { connectTcp, serveTcp } from "../platform/tcp.ts";
import type { ListenAddress } from "../exchange/listener.ts";
import type { RouteTable, TableRef } from "../model/route-table.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import { createTcpProxy } from "../l4/tcp-proxy.ts";
import { createIstioTcpMetrics } from "../telemetry/tcp-metrics.ts";
import type { ProxyTelemetry } from "./telemetry-setup.ts";
import { systemClock } from "../lib/clock.ts";
import { sniffClientHello } from "../l4/hello-sniffer.ts";

/** how long a passthrough port waits for the ClientHello (Envoy's listener_filters_timeout) */
export const CLIENT_HELLO_TIMEOUT_MS = 15_000;

export interface TcpPorts {
  /** closes the listeners of ports no longer TCP; the promises settle once each has let go */
  closeGone(table: RouteTable): Map<number, Promise<void>>;
  /** opens listeners for new TCP ports, each after waitFor(port) (an HTTP listener closing) */
  openNew(table: RouteTable, waitFor: (port: number) => Promise<void> | undefined): void;
  servers(): Server[];
  /** port → "host:port tcp", for /config_dump */
  describe(): [number, string][];
}

export function startTcpPorts(options: {
  binds: ReadonlyMap<number, ListenAddress>;
  table: TableRef;
  clusters: ClusterStates;
  telemetry: ProxyTelemetry;
  log: (message: string, level?: "info" | "warn" | "error") => void;
}): TcpPorts {
  const { log, table } = options;
  const metrics = createIstioTcpMetrics(options.telemetry.registry, options.telemetry.self);
  const listeners = new Map<number, { server?: Server; closed: boolean }>();

  // one proxy for every port: a cluster's maxConnections counts its connections from all of them
  const proxy = createTcpProxy({
    routes: (port) => table.current.gatewayTcp.get(port),
    clusters: options.clusters,
    metrics,
    accessLog: options.telemetry.accessLog,
    clock: systemClock,
    connect: connectTcp,
    log: (m, level) => log(`gateway TCP: ${m}`, level),
  });

  function open(port: number, entry: { server?: Server; closed: boolean }): void {
    const addr = options.binds.get(port) ?? { hostname: "0.0.0.0", port };
    const onConnection: Parameters<typeof serveTcp>[0]["onConnection"] = (channel, conn) => {
      const facts = { ...conn, port, sourceIp: conn.remoteAddress, destinationIp: conn.localAddress };
      const routes = table.current.gatewayTcp.get(port);
      if (!routes?.sni) return proxy.handle(channel, facts, routes);
      void sniffClientHello(channel, systemClock, CLIENT_HELLO_TIMEOUT_MS).then((sniffed) => {
        if (sniffed) proxy.handle(sniffed.channel, { ...facts, sni: sniffed.serverName }, routes);
      });
    };
    serveTcp({ ...addr, onConnection }).then(
      (server) => {
        if (entry.closed || listeners.get(port) !== entry) return void server.stop(true);
        entry.server = server;
        log(`gateway port ${port} listening on ${server.hostname}:${server.port} (tcp)`);
      },
      (error) => log(`gateway port ${port}: cannot listen on ${addr.hostname}:${addr.port}: ${(error as Error).message}`, "error"),
    );
  }

  return {
    closeGone(next) {
      const closing = new Map<number, Promise<void>>();
      for (const [port, entry] of listeners) {
        if (next.gatewayTcp.has(port)) continue;
        listeners.delete(port);
        entry.closed = true;
        // connections already spliced run on (stop resolves when they end); the port is free once
        // the listener stops accepting, which is all an HTTP listener taking the port waits for
        void entry.server?.stop(false).catch(() => {});
        closing.set(port, Promise.resolve());
        log(`gateway port ${port} closed (no Gateway server uses it as TCP any more)`);
      }
      return closing;
    },
    openNew(next, waitFor) {
      for (const port of next.gatewayTcp.keys()) {
        if (listeners.has(port)) continue;
        const entry = { closed: false };
        listeners.set(port, entry);
        const wait = waitFor(port);
        if (wait) void wait.then(() => listeners.get(port) === entry && open(port, entry));
        else open(port, entry);
      }
    },
    servers: () => [...listeners.values()].flatMap((e) => (e.server ? [e.server] : [])),
    describe: () =>
      [...listeners].flatMap(([port, e]) => (e.server ? [[port, `${e.server.hostname}:${e.server.port} ${table.current.gatewayTcp.get(port)?.sni ? "tls-passthrough" : "tcp"}`] as [number, string]] : [])),
  };
}
