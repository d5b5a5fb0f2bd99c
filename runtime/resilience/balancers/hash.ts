// A fast 32-bit non-cryptographic string hash for the consistent-hash ring.
// Hand-written because Web standards offer only crypto digests (async, allocating, far slower
// than needed), Bun's own hash would tie the core to one runtime, and a dependency for ten
// lines is not worth it. FNV-1a alone mixes poorly when keys differ only in their last characters
// ("10.0.0.1:80_1", "10.0.0.1:80_2"), which is exactly how ring points are named, so murmur3's
// fmix32 finalizer is applied to spread every input bit over the whole word.
// It hashes UTF-16 code units, not UTF-8 bytes: it only has to agree with itself.

export function hash32(s: string): number {
  let h = 0x811c9dc5; // FNV offset basis
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
