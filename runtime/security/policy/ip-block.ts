// IP addresses and CIDR blocks (IPv4 and IPv6) for AuthorizationPolicy's ipBlocks, remoteIpBlocks
// and the source.ip / remote.ip / destination.ip conditions. Blocks are parsed once at compile;
// a request's address is parsed once per check. IPv4-mapped IPv6 ("::ffff:10.0.0.1", what a
// dual-stack listener reports for an IPv4 peer) counts as the IPv4 address, so a block written
// for IPv4 cannot be sidestepped by the socket's address family.

/** 4 bytes (IPv4) or 16 bytes (IPv6) */
export type IpBytes = Uint8Array;

export interface IpBlock {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/; // no leading zeros: "010" is octal to some parsers

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!DEC_OCTET.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): IpBytes | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  // an embedded IPv4 part is only valid at the very end
  if (halves.length === 2 && halves[0].includes(".")) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

const isV4Mapped = (b: IpBytes) => b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/**
 * a link-local IPv6 peer comes with its interface ("fe80::1%eth0", or "%25eth0" as a URL writes it,
 * RFC 6874); the zone says which link, not which host, so blocks match on the address alone, as
 * Envoy's CIDR match does. Only IPv6 has zones: "10.0.0.1%x" stays invalid.
 */
function withoutZone(text: string): string {
  const zone = text.indexOf("%");
  if (zone === -1 || !text.slice(0, zone).includes(":")) return text;
  const id = text.slice(zone + 1).replace(/^25(?=.)/, "");
  return id && !/[%/\[\]\s]/.test(id) ? text.slice(0, zone) : text;
}

/** an address ("10.0.0.1", "::1", "[::1]", "::ffff:10.0.0.1", "fe80::1%eth0") as bytes, or undefined if it is not one */
export function parseIp(text: string): IpBytes | undefined {
  const t = withoutZone(text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text);
  const bytes = t.includes(":") ? parseIpv6(t) : parseIpv4(t);
  if (bytes && isV4Mapped(bytes)) return bytes.slice(12);
  return bytes;
}

/** why `text` is not an IP or CIDR block as AuthorizationPolicy takes it, or undefined when it is */
export function ipBlockProblem(text: string): string | undefined {
  return parseIpBlock(text) ? undefined : `expected an IP address or CIDR block such as "10.0.0.0/8" or "2001:db8::/32", got ${JSON.stringify(text)}`;
}

/** "10.0.0.0/8", "10.1.2.3" (a /32), "2001:db8::/32"; host bits are masked off, as Envoy does */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf("/");
  const addr = slash === -1 ? text : text.slice(0, slash);
  if (addr.startsWith("[")) return undefined;
  const raw = addr.includes(":") ? parseIpv6(addr) : parseIpv4(addr);
  if (!raw) return undefined;
  const max = raw.length * 8;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  let bytes = raw;
  // "::ffff:10.0.0.0/104" is the IPv4 block 10.0.0.0/8
  if (isV4Mapped(raw) && prefix >= 96) {
    bytes = raw.slice(12);
    prefix -= 96;
  }
  return { bytes: mask(bytes, prefix), prefix };
}

function mask(bytes: IpBytes, prefix: number): IpBytes {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] &= keep === 8 ? 0xff : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

export function ipInBlock(ip: IpBytes, block: IpBlock): boolean {
  if (ip.length !== block.bytes.length) return false;
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip[i] & m) !== block.bytes[i]) return false;
  }
  return true;
}
