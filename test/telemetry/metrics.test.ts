// The metrics registry: exposition read back by a strict parser (escaping, histogram buckets,
// +Inf = count), series identity per label set, the series cap and its drop counter.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRegistry, escapeLabelValue } from "../../runtime/telemetry/metrics.ts";
import { find, parseExposition } from "./prom-parse.ts";

test("counters and gauges render with HELP, TYPE and their labels", () => {
  const r = createRegistry();
  const c = r.counter("demo_requests_total", "Requests.", ["code"]);
  c.series(["200"]).inc();
  c.series(["200"]).inc(2);
  c.series(["503"]).inc();
  const g = r.gauge("demo_temperature", "Temperature.\nSecond line \\ backslash");
  g.series([]).set(21.5);
  g.series([]).dec(0.5);
  const text = r.expose();
  const p = parseExposition(text);
  assert.is(p.types.get("demo_requests_total"), "counter");
  assert.is(p.types.get("demo_temperature"), "gauge");
  assert.is(p.help.get("demo_temperature"), "Temperature.\\nSecond line \\\\ backslash");
  assert.is(find(p, "demo_requests_total", { code: "200" })[0].value, 3);
  assert.is(find(p, "demo_requests_total", { code: "503" })[0].value, 1);
  assert.is(find(p, "demo_temperature")[0].value, 21);
  assert.ok(text.includes("demo_temperature 21\n"), "a series without labels has no braces");
});

test("label values are escaped per the spec and read back intact", () => {
  const r = createRegistry();
  const c = r.counter("demo_total", "Escaping.", ["v"]);
  const nasty = ['quote " here', "back\\slash", "line\nfeed", "all \\\"\n", "ünïcödé ✓", ""];
  nasty.forEach((v) => c.series([v]).inc());
  const text = r.expose();
  const p = parseExposition(text);
  assert.equal(find(p, "demo_total").map((s) => s.labels.v), nasty);
  assert.is(text.split("\n").filter((l) => l.startsWith("demo_total{")).length, nasty.length, "no value breaks a line");
  assert.is(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
});

test("histograms: cumulative buckets, +Inf equals the count, sum is exact", () => {
  const r = createRegistry();
  const h = r.histogram("demo_duration_ms", "Durations.", ["route"], [1, 5, 10]);
  const s = h.series(["a"]);
  for (const v of [0.2, 1, 1.5, 5, 7, 10, 11, 1000]) s.observe(v);
  s.observe(NaN); // ignored
  const p = parseExposition(r.expose()); // checks monotonic buckets and +Inf = _count
  const buckets = find(p, "demo_duration_ms_bucket", { route: "a" }).map((b) => [b.labels.le, b.value]);
  assert.equal(buckets, [["1", 2], ["5", 4], ["10", 6], ["+Inf", 8]]);
  assert.is(find(p, "demo_duration_ms_count")[0].value, 8);
  assert.is(find(p, "demo_duration_ms_sum")[0].value, 0.2 + 1 + 1.5 + 5 + 7 + 10 + 11 + 1000);
});

test("large bucket bounds print in fixed point, as Envoy does", () => {
  const r = createRegistry();
  r.histogram("demo_big", "Big.", [], [0.5, 1800000, 3600000]).series([]).observe(2);
  const text = r.expose();
  assert.ok(text.includes('demo_big_bucket{le="0.5"} 0'));
  assert.ok(text.includes('demo_big_bucket{le="3600000"} 1'));
  assert.ok(text.includes("demo_big_sum 2\ndemo_big_count 1\n"));
});

test("the same label values give the same series object", () => {
  const r = createRegistry();
  const c = r.counter("demo_total", "Same.", ["a", "b"]);
  assert.is(c.series(["x", "y"]), c.series(["x", "y"]));
  assert.is.not(c.series(["x", "y"]), c.series(["x", "z"]));
  // the key cannot be confused by values that would join alike
  assert.is.not(c.series(["a,b", "c"]), c.series(["a", "b,c"]));
  assert.is(r.seriesCount, 4);
});

test("the series cap: new label sets get a drop series that counts, old ones keep working", () => {
  const r = createRegistry({ maxSeries: 3 });
  const c = r.counter("demo_total", "Capped.", ["id"]);
  const h = r.histogram("demo_ms", "Capped.", ["id"], [1]);
  const first = c.series(["1"]);
  c.series(["2"]);
  h.series(["1"]);
  const dropped = c.series(["3"]);
  dropped.inc();
  dropped.inc();
  h.series(["2"]).observe(1);
  first.inc();
  assert.is(r.seriesCount, 3);
  const p = parseExposition(r.expose());
  assert.is(find(p, "demo_total").length, 2);
  assert.is(find(p, "demo_total", { id: "1" })[0].value, 1);
  assert.is(find(p, "dietmesh_metrics_dropped_total")[0].value, 3);
  assert.is(find(p, "dietmesh_metrics_series")[0].value, 3);
});

test("collectors are read at scrape time", () => {
  const r = createRegistry();
  let live = 1;
  r.collect("demo_live", "Live.", "gauge", ["k"], (emit) => {
    emit(["a"], live);
    emit(["b"], live * 2);
  });
  assert.is(find(parseExposition(r.expose()), "demo_live", { k: "b" })[0].value, 2);
  live = 5;
  assert.is(find(parseExposition(r.expose()), "demo_live", { k: "b" })[0].value, 10);
});

test("bad names, duplicate families and wrong label counts fail at registration", () => {
  const r = createRegistry();
  r.counter("demo_total", "x");
  assert.throws(() => r.counter("demo_total", "again"), /already registered/);
  assert.throws(() => r.counter("9bad", "x"), /invalid metric name/);
  assert.throws(() => r.counter("demo_x", "x", ["bad-label"]), /invalid label name/);
  assert.throws(() => r.counter("demo_y", "x", ["__reserved"]), /invalid label name/);
  assert.throws(() => r.histogram("demo_h", "x", ["le"], [1]), /le/);
  assert.throws(() => r.histogram("demo_h2", "x", [], [5, 1]), /increasing/);
  const c = r.counter("demo_z", "x", ["a"]);
  assert.throws(() => c.series([]), /label values/);
});

test.run();
