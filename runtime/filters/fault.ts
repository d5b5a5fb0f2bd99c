// The fault filter (VirtualService fault): the chosen route's delay (flag DI) and abort (flag FI,
// the given HTTP status, or a gRPC status for gRPC), decided per request by the compiled fault.
import { sleep, type Clock } from "../lib/clock.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Exchange, Filter, FilterResult } from "./chain.ts";

export function faultFilter(clock: Clock): Filter {
  async function delayThenAbort(exchange: Exchange, delayMs: number, abort: () => FilterResult): Promise<FilterResult> {
    exchange.record.addFlag("DI");
    await sleep(clock, delayMs);
    return abort();
  }

  return function fault(exchange) {
    const action = exchange.route?.action;
    if (action?.kind !== "forward" || !action.fault) return undefined;
    const decision = action.fault.decide();
    if (!decision) return undefined;
    const abort = (): FilterResult => {
      if (decision.abortStatus !== undefined) return localReply(new ProxyError("fault-abort", undefined, decision.abortStatus), exchange.record);
      if (decision.grpcStatus !== undefined) {
        return localReply(new ProxyError("fault-abort", undefined, 200, "", { "content-type": "application/grpc", "grpc-status": decision.grpcStatus }), exchange.record);
      }
      return undefined;
    };
    return decision.delayMs > 0 ? delayThenAbort(exchange, decision.delayMs, abort) : abort();
  };
}
