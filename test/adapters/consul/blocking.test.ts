// The blocking-query rules of Consul's docs, on a fake clock and a scripted client: index reset
// when it goes backwards, never blocking on 0, and the token bucket that limits re-queries.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nextIndex, tokenBucket, watchQuery } from "../../../adapters/consul/blocking.ts";
import type { ConsulClient, ConsulRead } from "../../../adapters/consul/client.ts";
import { createFakeClock } from "../../../runtime/lib/clock.ts";

test("nextIndex: backwards resets to 0; below 1 becomes 1; otherwise the returned index", () => {
  assert.is(nextIndex(0, 42), 42, "first answer");
  assert.is(nextIndex(42, 42), 42, "no change (the wait elapsed)");
  assert.is(nextIndex(42, 50), 50);
  assert.is(nextIndex(42, 7), 0, "went backwards: start over with a plain read");
  assert.is(nextIndex(0, 0), 1, "0 would make the next query return at once");
  assert.is(nextIndex(0, undefined), 1, "no header: treated as 0");
  assert.is(nextIndex(5, undefined), 0, "no header after an index: backwards");
});

test("token bucket: a burst of 2, then one query per interval", async () => {
  const clock = createFakeClock();
  const bucket = tokenBucket(2, 1000, clock);
  const signal = new AbortController().signal;
  const taken: number[] = [];
  const takeAll = async (n: number) => { for (let i = 0; i < n; i++) { await bucket.take(signal); taken.push(clock.now()); } };
  const done = takeAll(5);
  await clock.advanceAsync(5000);
  await done;
  assert.equal(taken, [0, 0, 1000, 2000, 3000]);
  clock.advance(10_000);
  taken.length = 0;
  const again = takeAll(3);
  await clock.advanceAsync(2000);
  await again;
  assert.equal(taken.map((t) => t - 15_000), [0, 0, 1000], "refilled to the burst, not beyond");
});

test("token bucket: an abort while waiting ends the take", async () => {
  const clock = createFakeClock();
  const bucket = tokenBucket(1, 1000, clock);
  const controller = new AbortController();
  assert.is(await bucket.take(controller.signal), true);
  const waiting = bucket.take(controller.signal);
  controller.abort();
  assert.is(await waiting, false);
  assert.is(clock.pending(), 0);
});

/** answers the queued indexes in order and records each query it was sent */
function scriptedClient(indexes: (number | undefined)[]) {
  const queries: Record<string, string>[] = [];
  const client: ConsulClient = {
    async get<T>(_path: string, query: Record<string, string>): Promise<ConsulRead<T>> {
      queries.push(query);
      if (!indexes.length) throw new Error("script ended");
      return { body: [queries.length] as T, index: indexes.shift(), filteredByAcls: false };
    },
    put: async () => {},
  };
  return { client, queries };
}

test("watchQuery: blocks on the last index, resets when it goes backwards, never sends index 0", async () => {
  const clock = createFakeClock();
  const { client, queries } = scriptedClient([40, 40, 55, 12, 12, 0, undefined]);
  const results: unknown[] = [];
  const controller = new AbortController();
  const done = watchQuery<number[]>({
    client, path: "/v1/catalog/services", waitMs: 5000, bucket: tokenBucket(100, 1, clock), signal: controller.signal,
    onResult: (read) => results.push(read.index),
  }).catch((e: Error) => e.message);
  await clock.advanceAsync(1000);
  assert.is(await done, "script ended");
  assert.equal(queries.map((q) => q.index ?? "-"), ["-", "40", "40", "55", "-", "12", "-", "1"]);
  assert.equal(queries[1].wait, "5000ms");
  assert.equal(results, [40, 55, 12, 12, 0, undefined], "an unchanged index is skipped; the read after a reset is delivered");
});

test("watchQuery: an abort during a request resolves quietly", async () => {
  const clock = createFakeClock();
  const controller = new AbortController();
  const client: ConsulClient = {
    get: (_p, _q, signal) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    put: async () => {},
  };
  const done = watchQuery({ client, path: "/x", waitMs: 1000, bucket: tokenBucket(2, 1000, clock), signal: controller.signal, onResult: () => {} });
  await Promise.resolve();
  controller.abort();
  await done;
});

test.run();
