// The fault filter on a fake clock: a delayed request waits exactly its fixedDelay before going on
// (flag DI), an abort answers without waiting (flag FI), and a delay followed by an abort does both
// in that order. The e2e test checks the seed's YAML end to end; the timing lives here.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { faultFilter } from "../../runtime/filters/fault.ts";
import { compileFault } from "../../runtime/resilience/fault.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import type { Exchange } from "../../runtime/filters/chain.ts";
import type { HTTPFaultInjection } from "../../runtime/config/types.ts";

function exchangeWith(fault: HTTPFaultInjection): Exchange {
  const headers = new Headers({ host: "a.example" });
  const compiled = compileFault(fault, () => 0); // a draw of 0 hits every share above 0
  return {
    request: { method: "GET", url: "http://a.example/", headers, body: null },
    conn: { remoteAddress: "10.0.0.9", remotePort: 1234 },
    facts: { method: "GET", scheme: "http", authority: "a.example", path: "/", query: "", headers, port: 80 },
    record: new RequestRecord(0),
    route: { action: { kind: "forward", fault: compiled } } as unknown as Exchange["route"],
  };
}

test("a delay holds the request for exactly fixedDelay on the clock, then lets it go on with DI", async () => {
  const clock = createFakeClock();
  const ex = exchangeWith({ delay: { fixedDelay: 2000, percentage: { value: 50 } } });
  let settled = false;
  const result = Promise.resolve(faultFilter(clock)(ex)).then((r) => {
    settled = true;
    return r;
  });
  assert.is(ex.record.flagText, "DI", "DI is earned when the delay starts");
  await clock.advanceAsync(1999);
  assert.is(settled, false, "still waiting 1 ms before the delay ends");
  await clock.advanceAsync(1);
  assert.is(await result, undefined, "after the delay the request goes on to the next filter");
  assert.is(clock.pending(), 0);
});

test("an abort answers at once with its status and FI, arming no timer", async () => {
  const clock = createFakeClock();
  const ex = exchangeWith({ abort: { httpStatus: 503, percentage: { value: 50 } } });
  const answer = await faultFilter(clock)(ex);
  assert.ok(answer, "the filter answered");
  assert.is((answer as { status: number }).status, 503);
  assert.is(ex.record.flagText, "FI");
  assert.is(clock.pending(), 0);
});

test("delay then abort: the abort comes only after the delay, flags DI,FI", async () => {
  const clock = createFakeClock();
  const ex = exchangeWith({ delay: { fixedDelay: 500, percentage: { value: 10 } }, abort: { httpStatus: 500, percentage: { value: 10 } } });
  let answer: unknown = "pending";
  const done = Promise.resolve(faultFilter(clock)(ex)).then((r) => (answer = r));
  await clock.advanceAsync(499);
  assert.is(answer, "pending");
  await clock.advanceAsync(1);
  await done;
  assert.is((answer as { status: number }).status, 500);
  assert.is(ex.record.flagText, "DI,FI");
});

test.run();
