// The inbound side's half of the peer metadata exchange (telemetry/peer-metadata.ts): the caller's
// workload for the metrics, taken from an mTLS peer's certificate and metadata header onto the
// request record, and the header removed before the request reaches the app. On a connection
// without a verified client certificate the header is dropped unread: anyone could have sent it.
import { PEER_METADATA_HEADER, peerFromMetadata } from "../telemetry/peer-metadata.ts";
import type { Filter } from "./chain.ts";

export function peerMetadataFilter(): Filter {
  return function peerMetadata(exchange) {
    const headers = exchange.facts.headers;
    const header = headers.get(PEER_METADATA_HEADER);
    if (header !== null) headers.delete(PEER_METADATA_HEADER);
    const principal = exchange.conn.peer?.uris[0];
    if (principal) exchange.record.peer = peerFromMetadata(principal, header);
    return undefined;
  };
}
