// A small load driver for the demos, in the spirit of the fortio runs of Istio's circuit-breaking
// task: N requests over C connections to one Host through the gateway (or a sidecar's outbound
// listener), each printed with its status and x-dietmesh-response-flags, then a summary counted
// per status and flags.
// Usage: load.ts [--concurrency 2] [--requests 50] [--host spelling.cloud] [--path PATH]
//                [--gateway 127.0.0.1:8080] [--header 'Name: value']...
// It sends through the platform's upstream client, which keeps the Host header as given (Deno's
// fetch would replace it with the address).
import { platform } from "../runtime/platform/index.ts";
import { helpText, parseFlags, UsageError, type CommandSpec } from "../runtime/cli/args.ts";
import { upstreamClient } from "../runtime/upstream/default-client.ts";

const FLAGS_HEADER = "x-dietmesh-response-flags";

/** the API path of each demo host, when --path is not given */
const defaultPaths: Record<string, string> = {
  "spelling.cloud": "/api/spelling?word=abc",
  "hello-istio.cloud": "/api/hello",
};

const spec: CommandSpec = {
  name: "demo:load",
  summary: "Send requests to the demo gateway and count the answers per status and response flags.",
  usage: "npm run demo:load -- [--concurrency N] [--requests N] [--host HOST] [--path PATH] [--gateway HOST:PORT] [--header 'Name: value']",
  flags: [
    { name: "concurrency", kind: "string", value: "N", default: "2", help: "requests in flight at once (one connection each)" },
    { name: "requests", kind: "string", value: "N", default: "50", help: "requests in all" },
    { name: "host", kind: "string", value: "HOST", default: "spelling.cloud", help: "the Host header" },
    { name: "path", kind: "string", value: "PATH", help: "the request path (default: the demo host's API, else /)" },
    { name: "gateway", kind: "string", value: "HOST:PORT", default: "127.0.0.1:8080", help: "where to send (the gateway, or a sidecar's outbound listener)" },
    { name: "header", kind: "list", value: "'Name: value'", help: "an extra request header, e.g. 'Accept-Language: de' (repeatable)" },
    { name: "quiet", kind: "boolean", help: "print only the summary" },
  ],
};

interface Result {
  status: number | "error";
  flags: string;
  ms: number;
  body: string;
}

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: expected a positive whole number, got "${value}"`);
  return n;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(helpText(spec));
    return 0;
  }
  const flags = parseFlags(spec, argv);
  if (flags.positionals.length) throw new UsageError(`unexpected "${flags.positionals[0]}"`);
  const concurrency = positiveInt("concurrency", flags.strings.concurrency);
  const total = positiveInt("requests", flags.strings.requests);
  const host = flags.strings.host!;
  const path = flags.strings.path ?? defaultPaths[host] ?? "/";
  if (!path.startsWith("/")) throw new UsageError(`--path: expected a path starting with "/", got "${path}"`);
  const target = flags.strings.gateway!;
  const headers = new Headers({ host });
  for (const h of flags.lists.header) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header: expected 'Name: value', got "${h}"`);
    headers.append(h.slice(0, colon).trim(), h.slice(colon + 1).trim());
  }
  const quiet = flags.booleans.quiet;

  console.log(`${total} requests, ${concurrency} at a time: GET http://${target}${path} (Host: ${host})`);
  const results: Result[] = [];
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < total) {
      const n = ++next;
      const t0 = performance.now();
      let r: Result;
      try {
        const res = await upstreamClient.send({ url: `http://${target}${path}`, method: "GET", headers: new Headers(headers), body: null });
        const body = await res.text();
        r = { status: res.status, flags: res.headers.get(FLAGS_HEADER) ?? "-", ms: performance.now() - t0, body };
      } catch (error) {
        r = { status: "error", flags: "-", ms: performance.now() - t0, body: (error as Error).message };
      }
      results.push(r);
      if (!quiet) {
        const body = r.body.replace(/\s+/g, " ").trim();
        console.log(`${String(n).padStart(5)}  ${String(r.status).padEnd(5)} ${r.flags.padEnd(4)} ${r.ms.toFixed(0).padStart(6)} ms  ${body.length > 70 ? `${body.slice(0, 67)}...` : body}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (Date.now() - started) / 1000;

  const counts = new Map<string, number>();
  for (const r of results) {
    const key = `${r.status} ${r.flags}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  console.log(`\n${results.length} requests in ${seconds.toFixed(2)} s (${(results.length / seconds).toFixed(1)}/s); ` +
    `latency ms: avg ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1)}, p50 ${percentile(ms, 50).toFixed(1)}, ` +
    `p90 ${percentile(ms, 90).toFixed(1)}, p99 ${percentile(ms, 99).toFixed(1)}, max ${ms[ms.length - 1].toFixed(1)}`);
  console.log("status flags: count");
  for (const [key, count] of [...counts].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${key.padEnd(12)}: ${String(count).padStart(5)} (${((100 * count) / results.length).toFixed(1)} %)`);
  }
  // the spelling service answers 200 even when a letter fell back to "?"; count those too
  const fallbacks = results.filter((r) => r.status === 200 && r.body.includes('"?"')).length;
  if (fallbacks) console.log(`  (${fallbacks} of the 200s spelled a letter as "?": an upstream call behind the spelling service failed)`);
  return results.every((r) => r.status === "error") ? 1 : 0;
}

try {
  platform.exit(await main(platform.args()));
} catch (error) {
  console.error(`demo:load: ${(error as Error).message}`);
  platform.exit(error instanceof UsageError ? 2 : 1);
}
