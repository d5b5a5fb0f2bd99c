// The config watcher on real files and a real folder watch, with the settle time on a fake clock:
// a file replaced by a rename is in service after the quick quiet time; a write in place waits
// for two equal reads a settle time apart. The clock's pending timer is the synchronisation: it is
// armed only once the watcher reported the write (or the previous read finished).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { createFakeClock, type FakeClock } from "../../runtime/lib/clock.ts";
import { DEFAULT_QUICK_MS, DEFAULT_SETTLE_MS, startConfigWatch, type ConfigWatch } from "../../runtime/discovery/config-watch.ts";
import { platform } from "../../runtime/platform/index.ts";
import { eventually, tempConfig } from "../support/mesh.ts";

const probe = (answer: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: probe, namespace: default }
spec:
  hosts: [probe]
  http:
  - directResponse: { status: 200, body: { string: ${answer} } }
`;
const answer = (w: ConfigWatch) => JSON.stringify(w.table.current.config.virtualServices.map((vs) => vs.spec.http[0].directResponse));

/**
 * Runs the fake clock 10 ms at a time until the config swaps, and says at which fake time it did.
 * After each step it waits for the settle to be waiting again (a timer armed) or done: a read in
 * flight finishes first, so no step outruns the real I/O.
 */
async function swapTime(clock: FakeClock, swapped: () => number | undefined): Promise<number> {
  await eventually(async () => clock.pending() > 0, 10_000, "the watcher to report the write");
  while (swapped() === undefined) {
    if (clock.now() > 10 * DEFAULT_SETTLE_MS) throw new Error("no swap");
    await clock.advanceAsync(10);
    await eventually(async () => clock.pending() > 0 || swapped() !== undefined, 10_000, "the settle to wait again");
  }
  return swapped()!;
}

async function watching(body: (w: ConfigWatch, dir: string, swapAt: () => Promise<number>) => Promise<void>) {
  const dir = await tempConfig({ "probe.yaml": probe("one") });
  const clock = createFakeClock();
  let swappedAt: number | undefined;
  const w = await startConfigWatch({
    paths: [dir],
    namespace: "default",
    proxy: { kind: "sidecar", namespace: "default", labels: {} },
    log: () => {},
    clock,
    onSwap: () => (swappedAt ??= clock.now()),
  });
  try {
    await body(w, dir, () => swapTime(clock, () => swappedAt));
  } finally {
    w.close();
    await platform.remove(dir);
  }
}

test("a file replaced by a rename is in service after the quick quiet time", async () => {
  await watching(async (w, dir, swapAt) => {
    assert.match(answer(w), /"one"/);
    const version = w.table.current.version;
    await platform.writeTextFile(`${dir}/probe.yaml`, probe("two")); // a temporary file and a rename
    const at = await swapAt();
    assert.ok(at >= DEFAULT_QUICK_MS && at < DEFAULT_SETTLE_MS, `in service at ${at} ms on the settle clock`);
    assert.match(answer(w), /"two"/);
    assert.is(w.table.current.version, version + 1);
  });
});

test("a file written in place waits for two equal reads a settle time apart", async () => {
  await watching(async (w, dir, swapAt) => {
    const version = w.table.current.version;
    await writeFile(`${dir}/probe.yaml`, probe("two"));
    const at = await swapAt();
    assert.ok(at >= 2 * DEFAULT_SETTLE_MS, `in service at ${at} ms on the settle clock`);
    assert.match(answer(w), /"two"/);
    assert.is(w.table.current.version, version + 1);
  });
});

test.run();
