// X-Forwarded-Client-Cert at the gateway (Istio's default for gateways, SANITIZE_SET): whatever the
// client sent is dropped on every gateway port, and a verified client certificate is described for
// the upstream (security/edge-xfcc.ts says what goes in). Made once per connection and peer.
import type { PeerCertificate } from "../platform/index.ts";
import { edgeXfccValue } from "../security/edge-xfcc.ts";
import { XFCC } from "../security/xfcc.ts";
import type { Filter, FilterResult } from "./chain.ts";

export function gatewayXfccFilter(): Filter {
  const values = new WeakMap<PeerCertificate, string>();
  return function gatewayXfcc(exchange): FilterResult | Promise<FilterResult> {
    const peer = exchange.conn.peer;
    const headers = exchange.facts.headers;
    if (!peer) {
      headers.delete(XFCC);
      return undefined;
    }
    const value = values.get(peer);
    if (value !== undefined) {
      headers.set(XFCC, value);
      return undefined;
    }
    return edgeXfccValue(peer).then((made) => {
      values.set(peer, made);
      headers.set(XFCC, made);
      return undefined;
    });
  };
}
