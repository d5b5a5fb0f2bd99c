// Weighted choice among a route's destinations: share = weight / sum, zero weight never picked.

/** Why these weights cannot be routed on (Istio's validation rules), or undefined. */
export function weightsError(weights: readonly (number | undefined)[]): string | undefined {
  let sum = 0;
  for (const w of weights) {
    if (w === undefined) continue;
    if (!Number.isInteger(w) || w < 0) return `destination weight must be a non-negative integer, got ${w}`;
    sum += w;
  }
  if (weights.length === 0) return "a route needs at least one destination";
  if (weights.length > 1 && sum === 0) return "total destination weight = 0";
  return undefined;
}

/**
 * Compiles a picker returning the index of the chosen destination. `random` yields [0, 1).
 * As Istio: a single destination takes all traffic whatever its weight; with several, a missing
 * weight counts as 0 and zero-weight destinations are never picked. Cumulative weights are
 * computed once; a pick is one random draw and a scan of a handful of numbers.
 */
export function compileWeighted(weights: readonly (number | undefined)[], random: () => number): () => number {
  if (weights.length <= 1) return () => 0;
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] ?? 0;
    if (w > 0) {
      total += w;
      last = i;
    }
    cumulative[i] = total;
  }
  if (last === -1) return () => 0; // rejected by weightsError; never pick out of range
  const n = weights.length;
  return () => {
    const r = random() * total;
    for (let i = 0; i < n; i++) if (r < cumulative[i]) return i;
    return last; // r rounded up to total
  };
}
