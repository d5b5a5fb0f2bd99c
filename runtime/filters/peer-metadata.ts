// The inbound side's half of the peer metadata exchange (telemetry/peer-metadata.ts): the caller's
// workload for the metrics, taken from an mTLS peer's certificate and metadata header onto the
// request record, and the header removed before the request reaches the app. On a connection
// without a verified client certificate the header is dropped unread: anyone could have sent it.
// A caller that sent its metadata over mTLS gets ours back on the response (answerPeerMetadata),
// so its source-side metrics know which workload answered, as Istio's exchange does both ways.
import { PEER_METADATA_HEADER, peerFromMetadata } from "../telemetry/peer-metadata.ts";
import type { HttpResponse } from "../exchange/types.ts";
import type { Filter, Terminal } from "./chain.ts";

export function peerMetadataFilter(): Filter {
  return function peerMetadata(exchange) {
    const headers = exchange.facts.headers;
    const header = headers.get(PEER_METADATA_HEADER);
    if (header !== null) headers.delete(PEER_METADATA_HEADER);
    const principal = exchange.conn.peer?.uris[0];
    if (principal) {
      exchange.record.peer = peerFromMetadata(principal, header);
      exchange.record.peerAsked = header !== null;
    }
    return undefined;
  };
}

/** the inbound terminal, adding this proxy's metadata to the app's answer for a caller that asked */
export function answerPeerMetadata(terminal: Terminal, self: string | undefined): Terminal {
  if (!self) return terminal;
  const add = (response: HttpResponse): HttpResponse => {
    try {
      response.headers.set(PEER_METADATA_HEADER, self);
    } catch {
      // an in-process app's Response with immutable headers: the caller's labels stay "unknown"
    }
    return response;
  };
  return (exchange) => {
    if (!exchange.record.peerAsked) return terminal(exchange);
    const response = terminal(exchange);
    return response instanceof Promise ? response.then(add) : add(response);
  };
}
