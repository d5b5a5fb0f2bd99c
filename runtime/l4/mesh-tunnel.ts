// TCP over mesh mTLS between sidecars (dietmesh's counterpart of Istio's original-destination
// port, modelled on ambient's HBONE): the outbound sidecar opens mTLS to the destination sidecar's
// inbound port, the peer's SPIFFE ID checked as for HTTP, and sends one HTTP/1.1 request,
// `CONNECT <service-host>:<port>`. The inbound sidecar authorizes the connection (TCP rules of
// AuthorizationPolicy), connects to its app and answers 200; from then on the connection is a byte
// pipe. Any other answer means refused: the caller closes its client (UF, upstream_refused).
import type { ByteChannel } from "../exchange/types.ts";
import { TransportChannel } from "../exchange/transport-channel.ts";
import type { Connect, TlsTarget, Transport, TransportHandler } from "../upstream/http1/index.ts";
import type { Clock } from "../lib/clock.ts";
import { PEER_METADATA_HEADER } from "../telemetry/peer-metadata.ts";

export type TunnelFailure = "connect" | "connect-timeout" | "refused";

export class MeshTunnelError extends Error {
  constructor(readonly failure: TunnelFailure, message: string) {
    super(message);
  }
}

/** most bytes of the peer's answer head read before giving up on it */
const MAX_HEAD = 8 * 1024;
const encoder = new TextEncoder();

/**
 * connect: an mTLS Connect (upstream/http1 meshConnect) that reaches host:port with target.
 * peerMetadata: this proxy's (telemetry/peer-metadata.ts), sent on the CONNECT so the destination's
 * TCP metrics name the calling workload, as for HTTP.
 */
export function openMeshTunnel(connect: (host: string, port: number, handler: TransportHandler, target: TlsTarget) => Transport, clock: Clock, host: string, port: number, target: TlsTarget, authority: string, timeoutMs: number, peerMetadata?: string): Promise<ByteChannel> {
  const metadata = peerMetadata ? `${PEER_METADATA_HEADER}: ${peerMetadata}\r\n` : "";
  return new Promise((resolve, reject) => {
    let head = "";
    let channel: TransportChannel | undefined;
    let settled = false;
    const fail = (failure: TunnelFailure, message: string) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      transport.destroy();
      reject(new MeshTunnelError(failure, message));
    };
    const timer = clock.setTimeout(() => fail("connect-timeout", `tunnel to ${host}:${port} not established within ${timeoutMs}ms`), timeoutMs);
    const handler: TransportHandler = {
      onOpen() {
        transport.write(encoder.encode(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${metadata}\r\n`));
      },
      onData(chunk) {
        if (channel) return channel.data(chunk);
        // the head is ASCII; bytes past it belong to the tunnel
        const text = new TextDecoder("latin1").decode(chunk);
        const end = (head + text).indexOf("\r\n\r\n");
        if (end === -1) {
          head += text;
          if (head.length > MAX_HEAD) fail("refused", "the peer's answer head is too long");
          return;
        }
        const skip = end + 4 - head.length;
        head = (head + text).slice(0, end);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
        if (!(status >= 200 && status < 300)) return fail("refused", `the peer sidecar refused the tunnel: ${head.split("\r\n")[0]}`);
        settled = true;
        clock.clearTimeout(timer);
        const rest = chunk.subarray(skip);
        channel = new TransportChannel(transport, rest.byteLength ? [rest] : [], () => {});
        resolve(channel);
      },
      onDrain() {
        channel?.drain();
      },
      onClose(error) {
        if (channel) return channel.closed(error);
        fail("connect", `tunnel to ${host}:${port}: ${error?.message ?? "closed before it was established"}`);
      },
    };
    const transport = connect(host, port, handler, target);
  });
}

/** the Connect-shaped mTLS opener from upstream/http1's meshConnect */
export function tlsOpener(meshConnect: (plain: Connect, targetFor: () => TlsTarget) => Connect, plain: Connect) {
  return (host: string, port: number, handler: TransportHandler, target: TlsTarget): Transport => meshConnect(plain, () => target)(host, port, handler);
}
