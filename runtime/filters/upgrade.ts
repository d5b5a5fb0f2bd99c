// Which protocol switches a listener carries (Envoy's upgrade_configs; Istio turns on websocket on
// every HTTP listener). A request asking for any other Upgrade is refused with Envoy's local reply
// (403, upgrade_failed) rather than passed on as a request that would quietly lose its upgrade;
// h2c is the exception Envoy makes too: its Upgrade is dropped and the request goes on as HTTP/1.1.
import { ProxyError } from "../exchange/errors.ts";
import { isH2c } from "../exchange/headers.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Filter } from "./chain.ts";

export const DEFAULT_UPGRADES: readonly string[] = ["websocket"];

export function upgradeFilter(allowed: readonly string[] = DEFAULT_UPGRADES): Filter {
  const names = new Set(allowed.map((name) => name.toLowerCase()));
  return function upgrade(exchange) {
    const asked = exchange.request.upgrade;
    if (asked === undefined || isH2c(asked)) return undefined;
    // "websocket", or a list ("foo/2, websocket") — one protocol is chosen, the first (RFC 9110 §7.8)
    const first = asked.split(",")[0].trim().split("/")[0].toLowerCase();
    if (names.has(first)) return undefined;
    return localReply(new ProxyError("upgrade-refused", `upgrade ${JSON.stringify(asked)} is not carried`), exchange.record);
  };
}
