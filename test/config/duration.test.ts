// parseDuration: the protobuf JSON form and Go's form, and the messages for what neither accepts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatDuration, parseDuration } from "../../runtime/config/duration.ts";

const good: [string, number][] = [
  ["1s", 1000],
  ["5.000s", 5000],
  ["0.5s", 500],
  ["1.5s", 1500],
  ["1.005s", 1005],
  [".25s", 250],
  ["100ms", 100],
  ["1m", 60_000],
  ["1h", 3_600_000],
  ["1h30m", 5_400_000],
  ["1m30.5s", 90_500],
  ["250us", 0.25],
  ["250µs", 0.25],
  ["1500000ns", 1.5],
  ["0s", 0],
  ["0", 0],
];
for (const [text, ms] of good) {
  test(`parses ${JSON.stringify(text)} as ${ms} ms`, () => assert.is(parseDuration(text), ms));
}

const bad: [string, RegExp][] = [
  ["", /expected a duration/],
  ["-1s", /must not be negative/],
  ["10", /missing unit \(did you mean "10s"\?\)/],
  ["abc", /invalid duration "abc": expected a duration such as "1s"/],
  ["1d", /expected a duration/],
  ["1s garbage", /could not read " garbage"/],
  ["1 s", /expected a duration/],
  ["s", /expected a duration/],
  ["1.2.3s", /expected a duration/],
  ["99999999999999h", /longer than 10,000 years/],
];
for (const [text, message] of bad) {
  test(`rejects ${JSON.stringify(text)}`, () => assert.throws(() => parseDuration(text), message));
}

test("formats milliseconds in protobuf's JSON form", () => {
  assert.is(formatDuration(1500), "1.5s");
  assert.is(formatDuration(100), "0.1s");
  assert.is(formatDuration(0), "0s");
});

test.run();
