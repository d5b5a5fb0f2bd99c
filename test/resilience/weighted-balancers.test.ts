// Endpoint weights under ROUND_ROBIN and LEAST_REQUEST (Envoy's weighted round robin and weighted
// least request): exact shares over whole cycles of the total weight, skipping ejected and already
// tried hosts; RANDOM ignores weights, as Envoy's random balancer does. No timing: picks are counted.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LoadBalancerSettings } from "../../runtime/config/types.ts";
import type { Endpoint } from "../../runtime/model/types.ts";
import { createBalancer, createHost, type Balancer, type UpstreamHost } from "../../runtime/resilience/balancers/index.ts";
import { seededRandom } from "./seeded-random.ts";

/** hosts 10.0.0.1… with these weights (undefined: none written, which counts as 1) */
function hosts(...weights: (number | undefined)[]): UpstreamHost[] {
  return weights.map((weight, i) => {
    const endpoint: Endpoint = { address: `10.0.0.${i + 1}`, ports: {}, labels: {}, ready: true, ...(weight ? { weight } : {}) };
    return createHost(endpoint, 8080);
  });
}

/** picks per host, in host order */
function shares(b: Balancer, hs: UpstreamHost[], picks: number, exclude?: ReadonlySet<UpstreamHost>): number[] {
  const c = new Map<UpstreamHost | undefined, number>();
  for (let i = 0; i < picks; i++) {
    const h = b.pick(exclude ? { exclude } : {});
    c.set(h, (c.get(h) ?? 0) + 1);
  }
  assert.is(c.get(undefined), undefined, "every pick finds a host");
  return hs.map((h) => c.get(h) ?? 0);
}

const RR: LoadBalancerSettings = { simple: "ROUND_ROBIN" };

test("round robin: shares follow the weights exactly over whole cycles, whatever the random start", () => {
  for (const seed of [1, 2, 3, 4]) {
    const hs = hosts(3, 1, undefined);
    assert.equal(shares(createBalancer(RR, hs, seededRandom(seed)), hs, 500), [300, 100, 100]);
  }
  const hs = hosts(2, 1, 1);
  const b = createBalancer(RR, hs, () => 0);
  const seq = Array.from({ length: 8 }, () => hs.indexOf(b.pick({})!));
  assert.equal(seq, [0, 1, 2, 0, 0, 1, 2, 0], "smooth: the heavy host's two turns in a cycle of 4 are apart");
});

test("round robin: an ejected host's share goes to the others by their weights; it gets its own back on return", () => {
  const hs = hosts(3, 2, 1);
  const b = createBalancer(RR, hs, seededRandom(9));
  hs[0].healthy = false;
  assert.equal(shares(b, hs, 300), [0, 200, 100]);
  hs[0].healthy = true;
  assert.equal(shares(b, hs, 600), [300, 200, 100]);
  hs[0].healthy = hs[1].healthy = hs[2].healthy = false;
  assert.is(b.pick({}), undefined, "no healthy host: 503 UH");
});

test("round robin: a retry prefers hosts not yet tried, and falls back to a tried one when none is left", () => {
  const hs = hosts(3, 1);
  const b = createBalancer(RR, hs, seededRandom(5));
  assert.equal(shares(b, hs, 40, new Set([hs[0]])), [0, 40]);
  assert.equal(shares(b, hs, 40, new Set(hs)).reduce((a, n) => a + n, 0), 40);
});

test("least request with weights: the weights when idle, each divided by (active requests + 1) when busy", () => {
  for (const settings of [undefined, { simple: "LEAST_REQUEST" as const }]) {
    const hs = hosts(3, 1, 1);
    const b = createBalancer(settings, hs, seededRandom(11));
    assert.equal(shares(b, hs, 500), [300, 100, 100]);
    hs[0].active = 2; // 3 / (2 + 1): now even with the others
    assert.equal(shares(b, hs, 300), [100, 100, 100]);
    hs[0].active = 0;
    hs[1].active = 1; // 1 / 2
    assert.equal(shares(b, hs, 900), [600, 100, 200]);
  }
});

test("equal weights keep the unweighted balancers (round robin in turn from a random start)", () => {
  const hs = hosts(4, 4, 4);
  const b = createBalancer(RR, hs, () => 0.5);
  assert.equal([b.pick({}), b.pick({}), b.pick({})], [hs[1], hs[2], hs[0]]);
});

test("RANDOM ignores weights, as Envoy's random balancer does", () => {
  const hs = hosts(9, 1);
  const c = shares(createBalancer({ simple: "RANDOM" }, hs, seededRandom(42)), hs, 4000);
  assert.ok(Math.abs(c[0] - 2000) < 200 && Math.abs(c[1] - 2000) < 200, JSON.stringify(c));
});

test.run();
