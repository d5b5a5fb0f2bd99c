// Graceful drain for sidecar and gateway: on SIGTERM (or POST /quitquitquit) stop accepting new
// connections, let in-flight requests finish for up to the drain period, then exit. /ready turns
// 503 at once, so a load balancer stops sending before the listeners close.
import { platform, type Server } from "../platform/index.ts";
import type { ParsedFlags } from "./args.ts";
import { parseDuration } from "../config/duration.ts";
import { UsageError } from "./args.ts";

export const drainFlag = {
  name: "drain-duration",
  kind: "string" as const,
  value: "DURATION",
  default: "5s",
  help: "on SIGTERM, how long in-flight requests may take before the process exits (Istio's terminationDrainDuration)",
};

export function drainMs(flags: ParsedFlags): number {
  try {
    return parseDuration(flags.strings["drain-duration"] ?? "5s");
  } catch (error) {
    throw new UsageError(`--drain-duration: ${(error as Error).message}`);
  }
}

export interface Lifecycle {
  draining(): boolean;
  shutdown(): Promise<void>;
}

/** servers() is read at shutdown time, so listeners opened later (gateway ports) are included */
export function onTermination(options: { servers: () => Server[]; drainMs: number; close: () => void | Promise<void>; log: (m: string) => void }): Lifecycle {
  let draining = false;
  async function shutdown() {
    if (draining) return;
    draining = true;
    options.log(`draining for up to ${options.drainMs} ms`);
    const closed = Promise.resolve(options.close()).catch((e) => options.log(`shutdown: ${e}`));
    const stopped = Promise.all([closed, ...options.servers().map((s) => s.stop(false))]);
    const deadline = new Promise((resolve) => setTimeout(resolve, options.drainMs));
    await Promise.race([stopped, deadline]);
    platform.exit(0);
  }
  platform.onSignal("SIGTERM", () => void shutdown());
  platform.onSignal("SIGINT", () => void shutdown());
  return { draining: () => draining, shutdown };
}
