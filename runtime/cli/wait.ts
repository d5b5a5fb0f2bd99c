// `dietmesh wait`: blocks until a sidecar's /ready answers 200, so an app's start command can wait
// for its proxy (`dietmesh wait && exec my-app`) — the fix for Istio's "app starts before its
// sidecar" problem, without a control plane hook.
import { platform } from "../platform/index.ts";
import { parseDuration } from "../config/duration.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";
import { upstreamClient } from "../upstream/default-client.ts";
import { parseListenAddress } from "../exchange/listen-address.ts";

export const waitSpec: CommandSpec = {
  name: "wait",
  summary: "Wait until a sidecar is ready (its admin /ready answers 200); exit 1 at the timeout.",
  usage: "dietmesh wait [--admin HOST:PORT] [--timeout DURATION]",
  flags: [
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "the sidecar's admin listener" },
    { name: "timeout", kind: "string", value: "DURATION", default: "60s", help: "give up after this long" },
  ],
};

export async function runWait(argv: string[]): Promise<number> {
  const flags = parseFlags(waitSpec, argv);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(flags.strings.timeout ?? "60s");
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
  const admin = flags.strings.admin ?? "";
  // a typo is a usage error now, not a minute of polling an address that cannot exist
  if (!parseListenAddress(admin)) throw new UsageError(`--admin: expected HOST:PORT, got "${admin}"`);
  const url = `http://${admin}/ready`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await upstreamClient.send({ url, method: "GET", headers: new Headers(), body: null, signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) return 0;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.error(`dietmesh wait: ${url} not ready after ${flags.strings.timeout}`);
  return 1;
}
