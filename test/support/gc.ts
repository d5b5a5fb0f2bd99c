// A full garbage collection from inside a test, on Bun and on Deno, for retention tests: hold a
// WeakRef to what a reload or a renewal replaced, collect, and check the WeakRef is empty.
// Deno (V8) exposes gc only behind a flag, which node:v8 can still set once the process runs.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
let v8gc: (() => void) | undefined;

export async function collectGarbage(): Promise<void> {
  // a few turns first: promise jobs and timers of the code under test may still hold references
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
  if (bun) {
    // JSC keeps some just-dead objects through a forced collection until new allocation has gone
    // through the heap (seen: 20 route tables, none reachable, all kept until ~100,000 small
    // objects were allocated and collected); churn first, so "still alive" means reachable
    let churn: unknown[] = [];
    for (let i = 0; i < 100_000; i++) churn.push({ i });
    churn = [];
    return bun.gc(true);
  }
  if (!v8gc) {
    setFlagsFromString("--expose-gc");
    v8gc = runInNewContext("gc") as () => void;
  }
  v8gc();
}

/** whether what ref points at is gone after collections (a second one for objects freed by the first's finalizers) */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3 && ref.deref() !== undefined; i++) await collectGarbage();
  return ref.deref() === undefined;
}
