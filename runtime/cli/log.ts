// Process log lines, off the request path: one line per event on stderr — text (time, component,
// message) or JSON (time, level, component, msg) — with a level below which lines are dropped.
// Set once from --log-format/--log-level (or DIETMESH_LOG_FORMAT/_LEVEL) before the proxy starts.
import { UsageError, type FlagSpec, type ParsedFlags } from "./args.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const settings = { json: false, level: RANK.info };

export const logFlags: FlagSpec[] = [
  { name: "log-format", kind: "string", value: "FORMAT", default: "text", help: "process log lines on stderr: text or json (time, level, component, msg)" },
  { name: "log-level", kind: "string", value: "LEVEL", default: "info", help: "drop log lines below LEVEL — error: failures that break requests (an expired certificate, an internal error answered 500, a port that cannot be bound); warn: and failures worked around (a failed certificate renewal or Consul check update, a rejected config change); info: and routine events (listeners, config, certificate renewals); debug: as info (nothing logs at debug)" },
];

/** applies --log-format and --log-level; a bad value is a usage error */
export function configureLogging(flags: ParsedFlags): void {
  const format = flags.strings["log-format"] ?? "text";
  const level = (flags.strings["log-level"] ?? "info") as LogLevel;
  if (format !== "text" && format !== "json") throw new UsageError(`--log-format: expected text or json, got "${format}"`);
  if (!(level in RANK)) throw new UsageError(`--log-level: expected debug, info, warn or error, got "${level}"`);
  settings.json = format === "json";
  settings.level = RANK[level];
}

/** a component's logger: log(message) at info, or log(message, level) */
export function createLogger(component: string): (message: string, level?: LogLevel) => void {
  return (message, level = "info") => {
    if (RANK[level] < settings.level) return;
    const time = new Date().toISOString();
    if (settings.json) console.error(JSON.stringify({ time, level, component, msg: message }));
    else console.error(`${time} dietmesh ${component}: ${message}`);
  };
}
