// HTTP/2 chosen by ALPN inside the mesh's mTLS (issue 12): the protocol names dietmesh's sidecars
// offer and ask for, and the handover of a TLS connection that negotiated h2 to node:http2, on
// either listener (the node:tls mesh listener, Bun's native TLS listener). Plain "h2" and
// "http/1.1", not Istio's "istio-h2"/"istio-http/1.1": dietmesh only talks to dietmesh, and the
// standard names let h2load or curl with a client certificate reach an inbound port directly.
import type { ByteChannel } from "../exchange/types.ts";
import type { Transport, TransportHandler } from "./http1/transport.ts";
import type { ConnInfo, H2HeadLimits, H2ServeOptions } from "./types.ts";
import type { TlsCredentials } from "./mesh-listener.ts";
import { http2Handoff } from "./http2-listen.ts";

/** what a listener offers, most preferred first; a client that offers neither gets HTTP/1.1 */
export const MESH_ALPN = ["h2", "http/1.1"];
export const H2 = "h2";

/** where the streams of connections that negotiated h2 go; limits: the header blocks they may carry */
export type H2StreamHandler = H2ServeOptions["onStream"] & { readonly limits?: H2HeadLimits };

/** SocketServeOptions.tls as the inbound listener fills it: with http2, h2 is offered by ALPN */
export interface MeshTlsOptions {
  credentials: TlsCredentials;
  clientCertificate: boolean;
  http2?: H2StreamHandler;
}

/** a connection that negotiated h2: stop() sends GOAWAY and lets its streams finish */
export interface H2Connection {
  stop(): void;
}

// one node:http2 server per stream handler, shared by all its connections
const handoffs = new WeakMap<H2StreamHandler, ReturnType<typeof http2Handoff>>();

/**
 * Serves transport (TLS already terminated, peer already checked) as HTTP/2; attach starts its
 * byte delivery; onClose runs once the connection is gone. Every stream sees conn (peer included).
 */
export function serveH2Connection(onStream: H2StreamHandler, transport: Transport, attach: (handler: TransportHandler) => void, conn: ConnInfo, onClose: () => void): H2Connection {
  let handoff = handoffs.get(onStream);
  if (!handoff) handoffs.set(onStream, (handoff = http2Handoff(onStream, onStream.limits)));
  const channel: ByteChannel = {
    attach(sink) {
      attach({
        onOpen() {},
        onData: (bytes) => sink.onData(bytes),
        onDrain: () => sink.onDrain(),
        onClose(error) {
          onClose();
          sink.onClose(error);
        },
      });
    },
    write: (bytes) => transport.write(bytes),
    pause: () => transport.pause(),
    resume: () => transport.resume(),
    end: () => transport.end(),
    destroy() {
      onClose();
      transport.destroy();
    },
  };
  return handoff.accept(channel, conn);
}
