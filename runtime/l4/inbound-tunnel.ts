// The inbound end of TCP between sidecars (l4/mesh-tunnel.ts has the outbound end): a CONNECT that
// reaches a sidecar's inbound listener — over mTLS, or in plaintext where PeerAuthentication lets
// plaintext in (the listener refuses it under STRICT before any byte is read) — is a TCP connection
// for the app. It is authorized with the TCP reading of AuthorizationPolicy (principal from the
// verified client certificate, source IP, the app's port); denied → 403 and the connection closes,
// which the calling sidecar turns into a closed client. Allowed → a connection to the app, answered
// 200, then spliced by the HTTP server. Istio's TCP metrics are reported as destination, and the
// access log has one line per connection (when it closes, or when it is refused), as Envoy's
// inbound TCP proxy writes it.
import type { ByteChannel, DataHandler, HttpRequest, HttpResponse } from "../exchange/types.ts";
import type { ConnInfo } from "../platform/types.ts";
import { MeshResponse } from "../exchange/response.ts";
import type { AuthzDecision, WorkloadSecurity } from "../security/policy/index.ts";
import type { IstioTcpMetrics } from "../telemetry/tcp-metrics.ts";
import type { ServiceInfo, WorkloadInfo } from "../telemetry/workload-info.ts";
import { MeteredChannel } from "./metered-channel.ts";
import { PEER_METADATA_HEADER, peerFromMetadata } from "../telemetry/peer-metadata.ts";
import type { AccessLogWriter } from "../telemetry/access-log-writer.ts";
import { connectionEntry } from "../telemetry/access-log.ts";
import { addressKey } from "../upstream/upstream-tls.ts";

const SPIFFE = "spiffe://";
const NO_HEADERS = new Headers();
const NO_SERVICE = Object.freeze({ host: "", name: "", namespace: "" });

export interface InboundTunnelOptions {
  app: { hostname: string; port: number };
  /** destination.port for AuthorizationPolicy `ports` (the app's port, as for HTTP) */
  appPort: number;
  security(): WorkloadSecurity;
  connect(host: string, port: number, timeoutMs: number): Promise<ByteChannel>;
  metrics: IstioTcpMetrics;
  /** the service this workload serves that the CONNECT authority names (telemetry/local-service.ts) */
  serviceFor?(authority: string): ServiceInfo | undefined;
  onDecision?(decision: AuthzDecision): void;
  log(message: string): void;
  /** the access log, when on (one line per connection) */
  accessLog?: () => AccessLogWriter | undefined;
  /** ms since the epoch (default Date.now) */
  now?: () => number;
}

/** Istio's default connect timeout */
const CONNECT_TIMEOUT_MS = 10_000;

/** handles CONNECT on the inbound listener; every other request goes to next */
export function inboundTunnels(next: DataHandler, options: InboundTunnelOptions): DataHandler {
  return (request, conn) => (request.method === "CONNECT" ? tunnel(request, conn, options) : next(request, conn));
}

const answer = (status: number, text: string) => new MeshResponse(status, text, new Headers({ "content-length": "0" }), null);

/** the access-log line of one inbound TCP connection */
function logConnection(options: InboundTunnelOptions, conn: ConnInfo, start: number, flags: string, details: string, sent: number, received: number, termination?: string): void {
  const log = options.accessLog?.();
  if (!log) return;
  const now = options.now ?? Date.now;
  log.log(connectionEntry({
    startTime: start,
    responseFlags: flags,
    responseCodeDetails: details,
    connectionTerminationDetails: termination,
    bytesReceived: received,
    bytesSent: sent,
    durationMs: now() - start,
    upstreamHost: addressKey(options.app.hostname, options.app.port),
    upstreamCluster: `inbound|${options.appPort}||`,
    downstreamRemoteAddress: addressKey(conn.remoteAddress, conn.remotePort),
    downstreamLocalAddress: conn.localAddress ? addressKey(conn.localAddress, conn.localPort ?? 0) : undefined,
    requestedServerName: conn.sni,
  }));
}

async function tunnel(request: HttpRequest, conn: ConnInfo, options: InboundTunnelOptions): Promise<HttpResponse> {
  const start = (options.now ?? Date.now)();
  const uri = conn.peer?.uris.length === 1 ? conn.peer.uris[0] : undefined;
  const principal = uri?.startsWith(SPIFFE) ? uri : undefined;
  // the caller's workload from its proxy's metadata, believed only with a verified certificate
  const peer: WorkloadInfo = principal ? peerFromMetadata(principal, request.headers.get(PEER_METADATA_HEADER)) : {};
  const security = conn.secure ? "mutual_tls" : "none";
  const service = options.serviceFor?.(request.headers.get("host") ?? "") ?? NO_SERVICE;
  const series = (flags: string) => options.metrics.seriesFor({ reporter: "destination", peer, service, flags, security });
  const current = options.security();
  if (current.authorizes) {
    const decision = current.authorizeTcp({
      host: "",
      method: "",
      path: "",
      port: options.appPort,
      headers: NO_HEADERS,
      sourceIp: conn.remoteAddress,
      remoteIp: conn.remoteAddress,
      destinationIp: conn.localAddress,
      sni: conn.sni,
      principal: principal?.slice(SPIFFE.length),
    });
    options.onDecision?.(decision);
    if (!decision.allowed) {
      // Envoy's network RBAC filter closes the connection; the caller sees the refusal
      const s = series("-");
      s.opened();
      s.closed();
      options.log(`inbound TCP from ${principal ?? conn.remoteAddress} for ${new URL(request.url).host} denied (${decision.reason}${decision.policy ? ` by ${decision.policy}` : ""})`);
      // Envoy's network RBAC filter: the connection closed with this termination detail
      logConnection(options, conn, start, "-", "", 0, 0, `rbac_access_denied_matched_policy[${decision.policy ?? "none"}]`);
      return answer(403, "Forbidden");
    }
  }
  let app: ByteChannel;
  try {
    app = await options.connect(options.app.hostname, options.app.port, CONNECT_TIMEOUT_MS);
  } catch (error) {
    const s = series("UF");
    s.opened();
    s.closed();
    options.log(`inbound TCP: ${(error as Error).message}`);
    logConnection(options, conn, start, "UF", "upstream_connect_failure", 0, 0);
    return answer(503, "Service Unavailable");
  }
  const s = series("");
  s.opened();
  const channel = new MeteredChannel(app, (sent, received) => {
    s.bytes(sent, received);
    s.closed();
    logConnection(options, conn, start, "-", "", sent, received);
  });
  return new MeshResponse(200, "Connection established", new Headers(), null, undefined, channel);
}
