// Where the chain's per-request garbage is made: a V8 sampling heap profile of bench/pipeline-js.ts
// that keeps the objects the collector freed (what a request allocates, not what survives), summed
// by allocating function. Deno only: Bun's heap profile holds live objects alone.
// Usage: deno run -A bench/pipeline-alloc.ts [--requests 20000] [--mesh] [--connections 50]
//   (pipeline-js's own flags apply). Prints bytes per request, by site; V8's object sizes, which
//   differ from JSC's, so read the sites' order rather than their sum.
import { Session } from "node:inspector";

if (!("Deno" in globalThis)) {
  console.error("bench/pipeline-alloc.ts needs Deno (deno run -A): Bun's heap profile keeps no freed objects");
  process.exit(2);
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const session = new Session();
session.connect();
const post = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (error: Error | null, result?: object) => (error ? reject(error) : resolve(result as T))));

const { measure, arg } = await import("./pipeline-js.ts");
const REQUESTS = Number(arg("requests", "20000"));
await measure(REQUESTS); // compiled and warm before sampling starts
await post("HeapProfiler.enable");
await post("HeapProfiler.startSampling", { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
await measure(REQUESTS);
const { profile } = await post<{ profile: { head: ProfileNode } }>("HeapProfiler.stopSampling");

const bySite = new Map<string, number>();
let total = 0;
const pending = [profile.head];
while (pending.length) {
  const node = pending.pop()!;
  const { functionName, url, lineNumber } = node.callFrame;
  if (node.selfSize) {
    const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  pending.push(...node.children);
}
console.log(`${(total / REQUESTS).toFixed(0)} bytes per request (sampled), by allocating function:`);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(bytes / REQUESTS).toFixed(0).padStart(7)}  ${site}`);
