// The two scans every head gets, request or response, before its lines are read.
//
// Where a head ends: the first CRLFCRLF. A skip scan rather than a native indexOf per line (a call
// per LF was ~2 % of a mesh pair's profile): the byte under the candidate final LF decides how far
// the pattern can move. A byte that is neither CR nor LF lies inside every window that ends in the
// next three positions, so the next candidate is four on; after a CR, one on (that CR may be the
// pattern's second); after an LF that did not end one, two on (it may be the pattern's first LF).
//
// What no field may hold: a control character other than HTAB (DEL too), or a CR or LF that is not
// part of a CRLF (RFC 9110 §5.5, RFC 9112 §2.2). One native scan of the field lines; a head
// without any, the usual one, needs no check of each value's characters.

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

const NOT_FIELD_TEXT = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/g;

/** whether text from `from` on holds a byte no field may hold, or a CR or LF outside a CRLF */
export function hasNonFieldText(text: string, from: number): boolean {
  NOT_FIELD_TEXT.lastIndex = from;
  return NOT_FIELD_TEXT.test(text);
}
