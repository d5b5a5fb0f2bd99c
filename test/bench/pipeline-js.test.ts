// bench/pipeline-js.ts keeps measuring what it says: the real gateway chain, from an HTTP/1.1
// server connection to the cluster's pool and back. It refuses to time anything unless its first
// response is the upstream's answer through the route, so a change that breaks its wiring (or the
// route, or the pool) fails here instead of producing a figure for a 404.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";

const SCRIPT = new URL("../../bench/pipeline-js.ts", import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number | null; lines: string[] }> {
  const child = runScript(SCRIPT, args);
  const code = await child.exited;
  return { code, lines: child.lines };
}

test("the in-process gateway bench routes to its upstream and prints a time per request", async () => {
  const { code, lines } = await run(["--requests", "400", "--rounds", "2", "--connections", "4"]);
  assert.is(code, 0, lines.join("\n"));
  const head = lines.find((l) => l.startsWith("HTTP/1.1 "));
  assert.ok(head?.startsWith("HTTP/1.1 200 OK"), `the upstream's 200: ${head}`);
  assert.ok(head!.includes("x-dietmesh-attempts: 1"), "answered through the router, on its first try");
  const rounds = lines.filter((l) => /^round \d+: [\d.]+ µs per request \(400 requests\)$/.test(l));
  assert.is(rounds.length, 2, lines.join("\n"));
  for (const line of rounds) assert.ok(Number(/: ([\d.]+) µs/.exec(line)![1]) > 0);
});

test("its mesh mode goes through sidecar A's outbound chain and sidecar B's inbound chain to the app", async () => {
  const { code, lines } = await run(["--mesh", "--requests", "200", "--rounds", "1", "--connections", "2"]);
  assert.is(code, 0, lines.join("\n"));
  const head = lines.find((l) => l.startsWith("HTTP/1.1 "));
  assert.ok(head?.startsWith("HTTP/1.1 200 OK") && head.includes("x-dietmesh-attempts: 1"), `A's router answered with the app's 200: ${head}`);
  assert.ok(!head!.includes("x-dietmesh-peer-metadata"), "B's metadata answer is A's to read, not the client's");
  assert.ok(lines.some((l) => /^round 1: [\d.]+ µs per request \(200 requests\)$/.test(l)), lines.join("\n"));
});

test("the two-tree A/B driver alternates rounds and prints the median ratio", async () => {
  const root = new URL("../..", import.meta.url).pathname;
  const child = runScript(new URL("../../bench/pipeline-ab.ts", import.meta.url).pathname, ["--base", root, "--ab-rounds", "3", "--ab-requests", "100", "--connections", "2"]);
  const code = await child.exited;
  assert.is(code, 0, child.lines.join("\n"));
  const line = child.lines.map((l) => /^base ([\d.]+) new ([\d.]+) µs\/req; new\/base median ([\d.]+) \(IQR [\d.]+–[\d.]+, (\d+) rounds\)$/.exec(l)).find(Boolean);
  assert.ok(line, child.lines.join("\n"));
  assert.ok(Number(line![1]) > 0 && Number(line![2]) > 0 && Number(line![3]) > 0);
  assert.is(Number(line![4]), 1, "three rounds, two of them warm-up");
});

test("the allocation profile names where a request's garbage is made (Deno), and says so where it cannot run (Bun)", async () => {
  const child = runScript(new URL("../../bench/pipeline-alloc.ts", import.meta.url).pathname, ["--requests", "400", "--connections", "2"]);
  const code = await child.exited;
  const text = child.lines.join("\n");
  if (!("Deno" in globalThis)) {
    assert.is(code, 2, text);
    assert.ok(text.includes("needs Deno"), text);
    return;
  }
  assert.is(code, 0, text);
  const total = /^(\d+) bytes per request \(sampled\), by allocating function:$/m.exec(text);
  assert.ok(total && Number(total[1]) > 0, text);
  // the router's try allocates on every request: a profile without it did not sample the chain
  assert.ok(/^\s+\d+\s+\S+ router\/(router|attempt)\.ts:\d+$/m.test(text), text);
});

if ("Bun" in globalThis) {
  test("on Bun it counts the heap cells a request leaves, by type", async () => {
    const { code, lines } = await run(["--allocations", "200"]);
    assert.is(code, 0, lines.join("\n"));
    assert.ok(lines.includes("heap cells per request, by type:"), lines.join("\n"));
    // every request makes at least its promise and strings; the census must see them
    const strings = lines.map((l) => /^\s*([\d.]+) string$/.exec(l)).find(Boolean);
    assert.ok(strings && Number(strings[1]) >= 1, lines.join("\n"));
  });
}

test.run();
