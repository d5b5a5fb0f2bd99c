// Where a head ends: the first CRLFCRLF. Every request and response head is searched for it, so it
// is a skip scan rather than a native indexOf per line (a call per LF was ~2 % of a mesh pair's
// profile): the byte under the candidate final LF decides how far the pattern can move. A byte
// that is neither CR nor LF lies inside every window that ends in the next three positions, so
// the next candidate is four on; after a CR, one on (that CR may be the pattern's second); after
// an LF that did not end one, two on (it may be the pattern's first LF).

/** index just past the first CRLFCRLF whose final LF is at or after lastFrom (≥ 3) and before end, or -1 */
export function headEnd(bytes: Uint8Array, lastFrom: number, end: number): number {
  let i = lastFrom < 3 ? 3 : lastFrom;
  while (i < end) {
    const c = bytes[i];
    if (c === 10) {
      if (bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
      i += 2;
    } else i += c === 13 ? 1 : 4;
  }
  return -1;
}
