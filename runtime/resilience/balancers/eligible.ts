// Which hosts a pick may return, shared by the balancers: healthy first, then "not tried yet".
// Health is a plain mutable flag the outlier detector flips, so nothing here caches a filtered
// list; the helpers walk the host array in place and allocate nothing.
import type { UpstreamHost } from "./host-set.ts";

/** strict: healthy and not in exclude; otherwise healthy is enough (every other host was tried) */
function usable(h: UpstreamHost, exclude: ReadonlySet<UpstreamHost> | undefined, strict: boolean): boolean {
  return h.healthy && !(strict && exclude !== undefined && exclude.has(h));
}

/** an index in [0, n) from random(); clamped in case a fake random returns 1 */
export function randomIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  return i < n ? i : n - 1;
}

/**
 * Index of the first usable host at or after `start`, wrapping; prefers hosts not in exclude and
 * falls back to an excluded healthy one. -1 when no host is healthy.
 */
export function scanFrom(
  hosts: readonly UpstreamHost[],
  start: number,
  exclude: ReadonlySet<UpstreamHost> | undefined,
): number {
  const n = hosts.length;
  let fallback = -1;
  let j = start >= n ? start % n : start;
  for (let i = 0; i < n; i++) {
    const h = hosts[j];
    if (h.healthy) {
      if (exclude === undefined || !exclude.has(h)) return j;
      if (fallback < 0) fallback = j;
    }
    if (++j === n) j = 0;
  }
  return fallback;
}

/**
 * Index of a uniformly random usable host, or -1. Common path: one draw over all hosts, taken if
 * usable. Otherwise a second draw over the usable ones only; the two together are still uniform
 * over the usable set (1/N + (N-U)/N · 1/U = 1/U), and the counting pass runs only when needed.
 */
export function randomUsable(
  hosts: readonly UpstreamHost[],
  random: () => number,
  exclude: ReadonlySet<UpstreamHost> | undefined,
): number {
  const n = hosts.length;
  if (n === 0) return -1;
  const first = randomIndex(random, n);
  if (usable(hosts[first], exclude, true)) return first;
  const strict = nthUsable(hosts, random, exclude, true);
  return strict >= 0 ? strict : nthUsable(hosts, random, exclude, false);
}

function nthUsable(
  hosts: readonly UpstreamHost[],
  random: () => number,
  exclude: ReadonlySet<UpstreamHost> | undefined,
  strict: boolean,
): number {
  let count = 0;
  for (let i = 0; i < hosts.length; i++) if (usable(hosts[i], exclude, strict)) count++;
  if (count === 0) return -1;
  let k = randomIndex(random, count);
  for (let i = 0; i < hosts.length; i++) {
    if (usable(hosts[i], exclude, strict) && k-- === 0) return i;
  }
  return -1;
}
