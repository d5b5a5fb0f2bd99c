// consistentHash as a ring hash (Envoy's RING_HASH, Istio's default hash algorithm): each host
// owns points on a 32-bit ring named "<address>_<i>"; a key goes to the first point at or after
// its hash. Chosen over Maglev because a host leaving moves only the keys it owned, and an
// ejected host can be skipped by walking clockwise, with no table rebuild on the request path.
import { hash32 } from "./hash.ts";
import { weightOf, type UpstreamHost } from "./host-set.ts";
import type { BalancerFactory } from "./types.ts";

/** Envoy's and Istio's default minimumRingSize */
export const DEFAULT_RING_SIZE = 1024;
/** Envoy allows 8M points; we cap lower to keep a sidecar's memory small (~8 bytes a point). */
export const MAX_RING_SIZE = 1 << 20;
// Points are sorted as one float64 each: hash · 2^21 + host index stays below 2^53.
const HOST_SLOTS = 2 ** 21;

export function ringHash(minimumRingSize = DEFAULT_RING_SIZE): BalancerFactory {
  return (hosts, random) => {
    if (hosts.length >= HOST_SLOTS) throw new RangeError(`ring hash supports at most ${HOST_SLOTS - 1} hosts`);
    const min = Math.min(Math.max(1, minimumRingSize), MAX_RING_SIZE);
    let total = 0;
    for (const h of hosts) total += weightOf(h);
    // Points per unit of weight, rounded up to a power of two (Envoy scales exactly). Rounding
    // keeps every other host's points unchanged when one host joins or leaves, unless the count
    // crosses a power of two, so only ~1/N of keys move. The ring holds min to 2·min points.
    const perUnit = total > 0 ? 2 ** Math.ceil(Math.log2(min / total)) : 0;
    let size = 0;
    const counts = hosts.map((h) => Math.max(1, Math.ceil(weightOf(h) * perUnit)));
    for (const c of counts) size += c;
    const packed = new Float64Array(size);
    let k = 0;
    hosts.forEach((h, i) => {
      for (let r = 0; r < counts[i]; r++) packed[k++] = hash32(`${h.address}_${r}`) * HOST_SLOTS + i;
    });
    packed.sort(); // numeric for typed arrays; equal hashes order by host index, deterministically
    const points = new Uint32Array(size);
    const owners = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      points[i] = Math.floor(packed[i] / HOST_SLOTS);
      owners[i] = packed[i] % HOST_SLOTS;
    }

    return {
      pick(ctx) {
        if (size === 0) return undefined;
        // No key (header or cookie absent): a random point, as Envoy does.
        const h = ctx.hashKey !== undefined ? hash32(ctx.hashKey) : Math.floor(random() * 4294967296) >>> 0;
        let lo = 0;
        let hi = size;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (points[mid] < h) lo = mid + 1;
          else hi = mid;
        }
        let at = lo === size ? 0 : lo;
        // Walk clockwise past ejected and already-tried hosts: the same host a ring without them
        // would give, so a key returns to its host once the host is healthy again.
        let fallback: UpstreamHost | undefined;
        const exclude = ctx.exclude;
        for (let step = 0; step < size; step++) {
          const host = hosts[owners[at]];
          if (host.healthy) {
            if (exclude === undefined || !exclude.has(host)) return host;
            fallback ??= host;
          }
          if (++at === size) at = 0;
        }
        return fallback;
      },
    };
  };
}
