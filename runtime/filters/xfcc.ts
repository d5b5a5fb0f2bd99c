// X-Forwarded-Client-Cert for the app, as an Istio sidecar sets it (Envoy's SANITIZE_SET): what
// the client sent is dropped, and only a peer this proxy verified over mTLS is described (see
// security/xfcc.ts for the format). The value is made once per connection and peer: the leaf's hash
// is the only costly part, and a connection's peer never changes.
import type { PeerCertificate } from "../platform/index.ts";
import { setXfcc, XFCC } from "../security/xfcc.ts";
import { setChecked } from "../exchange/header-list.ts";
import type { Exchange, Filter, FilterResult } from "./chain.ts";

export function xfccFilter(localId: (() => string) | undefined): Filter {
  const values = new WeakMap<PeerCertificate, string>();

  async function first(exchange: Exchange, peer: PeerCertificate): Promise<FilterResult> {
    const scratch = new Headers();
    await setXfcc(scratch, peer, localId?.());
    const value = scratch.get(XFCC)!;
    values.set(peer, value);
    exchange.facts.headers.set(XFCC, value);
    return undefined;
  }

  return function xfcc(exchange) {
    const peer = exchange.conn.peer;
    const headers = exchange.facts.headers;
    if (!peer) {
      headers.delete(XFCC);
      return undefined;
    }
    const value = values.get(peer);
    if (value === undefined) return first(exchange, peer);
    setChecked(headers, XFCC, value); // checked when first set, on a Headers
    return undefined;
  };
}
