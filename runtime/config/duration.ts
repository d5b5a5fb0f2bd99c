// Istio durations → milliseconds. Istio's CRDs take protobuf's JSON form ("1s", "5.000s", "0.5s")
// and, through the CRD's CEL duration() checks, Go's form ("100ms", "1m30s", "1h"); both are read here.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3, // micro sign, as Go accepts
  "μs": 1e-3, // Greek mu, as Go accepts
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// protobuf's Duration tops out at 10,000 years; anything bigger is a typo, not a timeout
const MAX_MS = 315_576_000_000_000;

const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
const EXAMPLES = `such as "1s", "0.5s", "100ms" or "1m30s"`;

export class DurationError extends Error {
  override name = "DurationError";
}

/** Parses "1s", "5.000s", "100ms", "1h30m", "0" to milliseconds (fractions kept to the nanosecond). */
export function parseDuration(text: string): number {
  const shown = JSON.stringify(text);
  if (text === "") throw new DurationError(`invalid duration "": expected a duration ${EXAMPLES}`);
  if (text.startsWith("-")) throw new DurationError(`invalid duration ${shown}: must not be negative`);
  if (text === "0") return 0;
  if (/^\d+(\.\d*)?$/.test(text)) {
    throw new DurationError(`invalid duration ${shown}: missing unit (did you mean "${text}s"?)`);
  }
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) {
      const rest = at === 0 ? "" : ` (could not read ${JSON.stringify(text.slice(at))})`;
      throw new DurationError(`invalid duration ${shown}: expected a duration ${EXAMPLES}${rest}`);
    }
    // whole and fraction apart, so "1.005s" is 1005 ms and not 1004.9999…
    const [whole, fraction = ""] = m[1].split(".");
    const unit = UNIT_MS[m[2]];
    ms += Number(whole || "0") * unit + (fraction ? Number(`0.${fraction}`) * unit : 0);
  }
  ms = Math.round(ms * 1e6) / 1e6;
  if (ms > MAX_MS) throw new DurationError(`invalid duration ${shown}: longer than 10,000 years`);
  return ms;
}

/** milliseconds → protobuf JSON form ("1.5s"), for /config_dump and messages */
export function formatDuration(ms: number): string {
  return `${Number((ms / 1000).toFixed(9))}s`;
}
