import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileWeighted, weightsError } from "../../runtime/routing/weighted.ts";

/** evenly spaced draws in [0, 1): an exact, deterministic distribution */
function sweep(n: number): () => number {
  let i = 0;
  return () => (i++ % n) / n;
}

function counts(pick: () => number, draws: number, size: number): number[] {
  const out = new Array(size).fill(0);
  for (let i = 0; i < draws; i++) out[pick()]++;
  return out;
}

test("seed 70/30 split: share = weight / sum", () => {
  assert.equal(counts(compileWeighted([70, 30], sweep(1000)), 1000, 2), [700, 300]);
});

test("weights need not sum to 100", () => {
  assert.equal(counts(compileWeighted([1, 3], sweep(1000)), 1000, 2), [250, 750]);
});

test("a zero-weight destination is never picked", () => {
  const c = counts(compileWeighted([0, 50, 0, 50, 0], sweep(1000)), 1000, 5);
  assert.equal(c, [0, 500, 0, 500, 0]);
  // even at the edges of the random range
  assert.is(compileWeighted([0, 10], () => 0)(), 1);
  assert.is(compileWeighted([10, 0], () => 0.9999999999999999)(), 0);
  assert.is(compileWeighted([10, 0], () => 1)(), 0); // even a source that breaks its [0, 1) promise
});

test("a missing weight counts as 0 among several; a single destination takes everything", () => {
  assert.equal(counts(compileWeighted([100, undefined], sweep(100)), 100, 2), [100, 0]);
  assert.is(compileWeighted([undefined], () => 0.5)(), 0);
  assert.is(compileWeighted([0], () => 0.5)(), 0);
});

test("uses the injected random source", () => {
  const pick = compileWeighted([50, 50], () => 0.75);
  assert.is(pick(), 1);
  assert.is(compileWeighted([50, 50], () => 0.25)(), 0);
});

test("weightsError follows Istio validation", () => {
  assert.is(weightsError([70, 30]), undefined);
  assert.is(weightsError([undefined]), undefined);
  assert.type(weightsError([0, 0]), "string");
  assert.type(weightsError([-1, 10]), "string");
  assert.type(weightsError([1.5, 10]), "string");
  assert.type(weightsError([]), "string");
});

test.run();
