// Load balancers: distribution, health, retry exclusion and consistent hashing (keys: balancers/hash-key.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { LoadBalancerSettings } from "../../runtime/config/types.ts";
import type { Endpoint } from "../../runtime/model/types.ts";
import { createBalancer, createHost, type Balancer, type UpstreamHost } from "../../runtime/resilience/balancers/index.ts";

function endpoint(address: string, weight?: number): Endpoint {
  return { address, ports: {}, labels: {}, ready: true, ...(weight ? { weight } : {}) };
}
function hosts(n: number): UpstreamHost[] {
  return Array.from({ length: n }, (_, i) => createHost(endpoint(`10.0.0.${i + 1}`), 8080));
}
/** mulberry32: a small seeded PRNG, so every run sees the same "random" numbers */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function counts(b: Balancer, picks: number, key?: (i: number) => string): Map<UpstreamHost | undefined, number> {
  const out = new Map<UpstreamHost | undefined, number>();
  for (let i = 0, h; i < picks; i++) out.set((h = b.pick(key ? { hashKey: key(i) } : {})), (out.get(h) ?? 0) + 1);
  return out;
}
const ring = (): LoadBalancerSettings => ({ consistentHash: { httpHeaderName: "x-user" } });
const POLICIES: Array<[string, LoadBalancerSettings | undefined]> = [["default", undefined],
  ["LEAST_REQUEST", { simple: "LEAST_REQUEST" }], ["ROUND_ROBIN", { simple: "ROUND_ROBIN" }],
  ["RANDOM", { simple: "RANDOM" }], ["consistentHash", ring()], ["maglev", { consistentHash: { maglev: {} } }]];

test("createHost formats IPv4, IPv6 and names once", () => {
  assert.is(createHost(endpoint("10.1.2.3"), 80).address, "10.1.2.3:80");
  assert.is(createHost(endpoint("fd00::1"), 80).address, "[fd00::1]:80");
  assert.is(createHost(endpoint("api.example.com"), 443).address, "api.example.com:443");
  assert.equal([hosts(1)[0].active, hosts(1)[0].healthy], [0, true]);
});

test("round robin distributes exactly and in turn", () => {
  const hs = hosts(3);
  const b = createBalancer({ simple: "ROUND_ROBIN" }, hs, () => 0.5);
  const seen = Array.from({ length: 6 }, () => b.pick({}));
  assert.equal(seen.slice(3), seen.slice(0, 3));
  assert.is(new Set(seen.slice(0, 3)).size, 3);
  const c = counts(b, 300);
  for (const h of hs) assert.is(c.get(h), 100);
});

test("round robin skips an ejected host without doubling its neighbour", () => {
  const hs = hosts(4);
  hs[1].healthy = false;
  const c = counts(createBalancer({ simple: "ROUND_ROBIN" }, hs, () => 0), 300);
  assert.is(c.get(hs[1]), undefined);
  for (const h of [hs[0], hs[2], hs[3]]) assert.is(c.get(h), 100);
});

test("least request prefers the idle host of the two sampled", () => {
  const hs = hosts(2);
  hs[0].active = 5;
  for (const settings of [undefined, { simple: "LEAST_REQUEST" as const }, { simple: "LEAST_CONN" as const }]) {
    // every draw lands on the busy host first; the collision rule still compares with the other
    const b = createBalancer(settings, hs, () => 0);
    assert.is(b.pick({}), hs[1]);
    const r = createBalancer(settings, hs, seeded(7));
    for (let i = 0; i < 50; i++) assert.is(r.pick({}), hs[1]);
  }
});

test("least request compares the two sampled hosts only", () => {
  const hs = hosts(4);
  hs[0].active = 3;
  hs[1].active = 1;
  hs[3].active = 0; // idlest, but not sampled
  const draws = [0.1, 0.3]; // indexes 0 and 1
  const b = createBalancer(undefined, hs, () => draws.shift() ?? 0);
  assert.is(b.pick({}), hs[1]);
  const one = hosts(1);
  one[0].active = 100;
  assert.is(createBalancer(undefined, one, seeded(1)).pick({}), one[0], "a single host, however busy");
});

test("random covers every host, roughly evenly", () => {
  const hs = hosts(5);
  const c = counts(createBalancer({ simple: "RANDOM" }, hs, seeded(42)), 5000);
  for (const h of hs) assert.ok((c.get(h) ?? 0) > 850, `${h.address}: ${c.get(h)}`);
});

test("random stays uniform over the healthy hosts", () => {
  const hs = hosts(4);
  hs[0].healthy = false;
  const c = counts(createBalancer({ simple: "RANDOM" }, hs, seeded(3)), 6000);
  assert.is(c.get(hs[0]), undefined);
  for (const h of hs.slice(1)) assert.ok(Math.abs((c.get(h) ?? 0) - 2000) < 200, `${h.address}: ${c.get(h)}`);
});

test("consistent hash is sticky for a key and spreads keys", () => {
  const hs = hosts(5);
  const b = createBalancer(ring(), hs, seeded(1));
  for (const key of ["alice", "bob", "carol"]) {
    const first = b.pick({ hashKey: key });
    for (let i = 0; i < 20; i++) assert.is(b.pick({ hashKey: key }), first);
  }
  const c = counts(b, 5000, (i) => `user-${i}`);
  for (const h of hs) {
    const share = (c.get(h) ?? 0) / 5000;
    assert.ok(share > 0.12 && share < 0.28, `${h.address}: ${share}`);
  }
});

test("consistent hash moves only the keys of a host that leaves or joins", () => {
  const ten = hosts(10);
  const keys = Array.from({ length: 5000 }, (_, i) => `session-${i}`);
  const before = createBalancer(ring(), ten, seeded(1));
  const owner = keys.map((k) => before.pick({ hashKey: k })!.address);

  const nine = createBalancer(ring(), ten.slice(0, 9), seeded(1));
  let moved = 0;
  keys.forEach((k, i) => {
    const now = nine.pick({ hashKey: k })!.address;
    if (owner[i] !== ten[9].address) assert.is(now, owner[i]); // untouched keys stay put
    else moved++;
  });
  assert.ok(moved / keys.length > 0.05 && moved / keys.length < 0.15, `moved ${moved}`);

  const eleven = createBalancer(ring(), [...ten, createHost(endpoint("10.0.0.99"), 8080)], seeded(1));
  let joined = 0;
  keys.forEach((k, i) => {
    const now = eleven.pick({ hashKey: k })!.address;
    if (now !== owner[i]) { assert.is(now, "10.0.0.99:8080"); joined++; }
  });
  assert.ok(joined / keys.length > 0.05 && joined / keys.length < 0.15, `joined ${joined}`);
});

test("consistent hash sends an ejected host's keys elsewhere, and back on return", () => {
  const hs = hosts(3);
  const b = createBalancer(ring(), hs, seeded(1));
  const home = b.pick({ hashKey: "k" })!;
  home.healthy = false;
  const away = b.pick({ hashKey: "k" });
  assert.ok(away && away !== home);
  home.healthy = true;
  assert.is(b.pick({ hashKey: "k" }), home);
});

test("consistent hash honours endpoint weight and picks at random without a key", () => {
  const hs = [createHost(endpoint("10.0.0.1", 3), 80), createHost(endpoint("10.0.0.2", 1), 80)];
  const c = counts(createBalancer(ring(), hs, seeded(1)), 8000, (i) => `w-${i}`);
  const share = (c.get(hs[0]) ?? 0) / 8000;
  assert.ok(share > 0.68 && share < 0.82, `heavy share ${share}`);
  const keyless = counts(createBalancer(ring(), hs, seeded(9)), 2000);
  assert.is(keyless.size, 2);
});

test("unhealthy hosts are skipped by every policy", () => {
  for (const [name, settings] of POLICIES) {
    const hs = hosts(3);
    hs[0].healthy = false;
    hs[2].healthy = false;
    const b = createBalancer(settings, hs, seeded(5));
    for (let i = 0; i < 30; i++) assert.is(b.pick({ hashKey: `k${i}` }), hs[1], name);
  }
});

test("no healthy host (or no host) gives undefined", () => {
  for (const [name, settings] of POLICIES) {
    const hs = hosts(3);
    for (const h of hs) h.healthy = false;
    assert.is(createBalancer(settings, hs, seeded(5)).pick({ hashKey: "k" }), undefined, name);
    assert.is(createBalancer(settings, [], seeded(5)).pick({ hashKey: "k" }), undefined, name);
    const one = hosts(1);
    one[0].healthy = false;
    assert.is(createBalancer(settings, one, seeded(5)).pick({}), undefined, name);
  }
});

test("hosts already tried are avoided while another healthy host exists", () => {
  for (const [name, settings] of POLICIES) {
    const hs = hosts(3);
    const b = createBalancer(settings, hs, seeded(11));
    const tried = new Set([hs[0], hs[1]]);
    for (let i = 0; i < 30; i++) assert.is(b.pick({ hashKey: `k${i}`, exclude: tried }), hs[2], name);
    hs[2].healthy = false; // the only untried host is ejected: a tried one is better than none
    for (let i = 0; i < 10; i++) assert.ok(tried.has(b.pick({ hashKey: `k${i}`, exclude: tried })!), name);
    const all = new Set(hs);
    hs[2].healthy = true;
    assert.ok(b.pick({ hashKey: "k", exclude: all }), name);
  }
});

test.run();
