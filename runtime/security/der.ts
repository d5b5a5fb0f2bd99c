// DER (X.690) read and write, as much as certificates, CSRs and their extensions need: a
// serving proxy reads and writes these few structures itself instead of loading a full ASN.1 and
// X.509 library (about 9 MB of memory per process for what is a few hundred bytes of DER).
// Reading is strict where it is cheap (lengths inside the input, definite lengths only) and throws
// DerError; callers turn that into their own error with context.

export class DerError extends Error {}

/** one tag-length-value: `body` is a view into the input, `raw` the whole element */
export interface Tlv {
  tag: number;
  body: Uint8Array;
  raw: Uint8Array;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** the element starting at `at`; multi-byte tags (number ≥ 31) are never needed here and refused */
export function readTlv(der: Uint8Array, at = 0): Tlv {
  const tag = der[at];
  if (tag === undefined || der[at + 1] === undefined) throw new DerError("truncated DER");
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte DER tag");
  let length = der[at + 1];
  let offset = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new DerError("unsupported DER length");
    if (offset + bytes > der.length) throw new DerError("truncated DER");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[offset + i];
    offset += bytes;
  }
  if (offset + length > der.length) throw new DerError("truncated DER");
  return { tag, body: der.subarray(offset, offset + length), raw: der.subarray(at, offset + length) };
}

/** the one element filling `der` exactly */
export function readOne(der: Uint8Array, tag?: number): Tlv {
  const t = readTlv(der, 0);
  if (t.raw.length !== der.length) throw new DerError("trailing bytes after DER element");
  if (tag !== undefined && t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** the elements of a constructed body, in order */
export function children(body: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < body.length; ) {
    const t = readTlv(body, at);
    out.push(t);
    at += t.raw.length;
  }
  return out;
}

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}${t ? `, found 0x${t.tag.toString(16)}` : ", found nothing"}`);
  return t;
}

export function readOid(body: Uint8Array): string {
  if (body.length === 0) throw new DerError("empty OBJECT IDENTIFIER");
  const parts: number[] = [];
  let value = 0;
  for (const byte of body) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join(".");
}

/** a BIT STRING's bits, its first (unused-bits count) byte removed */
export function bitStringBytes(body: Uint8Array): Uint8Array {
  if (body.length === 0 || body[0] > 7) throw new DerError("malformed BIT STRING");
  return body.subarray(1);
}

/** UTCTime (two-digit year, RFC 5280's 1950–2049 window) or GeneralizedTime, both ending in Z */
export function readTime(t: Tlv): Date {
  const text = latin1(t.body);
  const m = t.tag === TAG.utcTime ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : t.tag === TAG.generalizedTime ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!m) throw new DerError(`unreadable time ${JSON.stringify(text)}`);
  let year = Number(m[1]);
  if (t.tag === TAG.utcTime) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

// ---- writing ----

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** one element: tag, length, and the concatenated contents */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const size = contents.reduce((n, c) => n + c.length, 0);
  const head = [tag, ...lengthBytes(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head);
  let at = head.length;
  for (const c of contents) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const seq = (...contents: Uint8Array[]) => tlv(TAG.sequence, ...contents);

export function oid(dotted: string): Uint8Array<ArrayBuffer> {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const bytes: number[] = [];
  for (const n of [a * 40 + b, ...rest]) {
    const group: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) group.unshift(0x80 | (v & 0x7f));
    bytes.push(...group);
  }
  return tlv(TAG.oid, new Uint8Array(bytes));
}

/** an unsigned big-endian number as a minimal, positive INTEGER */
export function unsignedInteger(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return trimmed[0] & 0x80 ? tlv(TAG.integer, new Uint8Array([0]), trimmed) : tlv(TAG.integer, trimmed);
}

export const bitString = (bytes: Uint8Array) => tlv(TAG.bitString, new Uint8Array([0]), bytes);
export const octetString = (bytes: Uint8Array) => tlv(TAG.octetString, bytes);

/** the ECDSA signature WebCrypto makes (r‖s, fixed width) as X.509 carries it: SEQUENCE { r, s } */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  return seq(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/** and back: each INTEGER left-padded (or its sign byte dropped) to the curve's field width */
export function ecdsaDerToRaw(der: Uint8Array, width: number): Uint8Array<ArrayBuffer> {
  const [r, s] = children(readOne(der, TAG.sequence).body);
  const out = new Uint8Array(width * 2);
  for (const [i, part] of [r, s].entries()) {
    expectTag(part, TAG.integer, "ECDSA signature");
    let v = part.body;
    while (v.length > width && v[0] === 0) v = v.subarray(1);
    if (v.length > width) throw new DerError("ECDSA signature integer too long for the curve");
    out.set(v, i * width + width - v.length);
  }
  return out;
}
