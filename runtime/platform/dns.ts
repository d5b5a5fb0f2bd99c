// Name resolution for DNS ServiceEntries (Envoy's dns_resolvers): the addresses of a name and how
// long they may be kept. node:dns is the one API that works alike on Bun and Deno here and gives
// TTLs (Deno.resolveDns does not): with `--dns-server HOST:PORT` a Resolver asks that server for A
// and AAAA records with their TTLs; without it, the system's getaddrinfo (lookup), which also reads
// /etc/hosts as Envoy's c-ares resolver does but carries no TTL.
import type * as NodeDns from "node:dns";

// on first use: a mesh with no DNS ServiceEntry never resolves a name (node:dns brings node:net
// with it on Bun, a few ms of cold start)
let loaded: typeof NodeDns.promises | undefined;
const loadDns = async () => (loaded ??= (await import("node:dns")).promises);

export interface DnsAnswer {
  /** IPv4 first, then IPv6, each in the server's order */
  addresses: string[];
  /** seconds, the smallest record TTL; undefined when the resolver does not say */
  ttl?: number;
}

/** rejects when the name has no address or the server does not answer */
export type DnsResolve = (name: string) => Promise<DnsAnswer>;

const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/; // no leading zeros, as Resolver#setServers
function isIpv4(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4 && octets.every((o) => DEC_OCTET.test(o) && Number(o) <= 255);
}
/** the URL parser's IPv6 grammar (web standard, no node:net to load) */
function isIpv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":")) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * why a server is not one Resolver#setServers takes — "IP", "IP:PORT", an IPv6 bare or as
 * "[IPv6]" or "[IPv6]:PORT" — or undefined when it is (a name or a bad port is refused at start,
 * not at the first resolution)
 */
export function dnsServerProblem(server: string): string | undefined {
  const m = /^(?:\[([^\]]*)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server);
  const port = m?.[3] === undefined ? 53 : Number(m[3]);
  const ok = m ? (m[1] !== undefined ? isIpv6(m[1]) : isIpv4(m[2])) && port >= 1 && port <= 65535 : isIpv6(server);
  return ok ? undefined : `expected IP, IP:PORT or [IPv6]:PORT, got ${JSON.stringify(server)}`;
}

/** servers: "IP" or "IP:PORT" ("[IPv6]:PORT"); none → the system resolver. A malformed server throws. */
export function createDnsResolver(servers: readonly string[] = []): DnsResolve {
  for (const server of servers) {
    const problem = dnsServerProblem(server);
    if (problem) throw new Error(`DNS server: ${problem}`);
  }
  if (servers.length === 0) {
    return async (name) => {
      const dns = await loadDns();
      const found = await dns.lookup(name, { all: true, verbatim: true });
      const v4 = found.filter((a) => a.family === 4).map((a) => a.address);
      const v6 = found.filter((a) => a.family === 6).map((a) => a.address);
      return { addresses: [...v4, ...v6] };
    };
  }
  return async (name) => {
    // a fresh Resolver per question: Bun's keeps a cache of its own for the records' TTL, and a
    // re-resolution due at the TTL must reach the server
    const dns = await loadDns();
    const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([...servers]);
    const settled = await Promise.allSettled([resolver.resolve4(name, { ttl: true }), resolver.resolve6(name, { ttl: true })]);
    const records = settled.flatMap((s) => (s.status === "fulfilled" ? s.value : []));
    if (records.length === 0) {
      const failure = settled.find((s) => s.status === "rejected") as PromiseRejectedResult | undefined;
      throw failure?.reason ?? new Error(`${name}: no A or AAAA records`);
    }
    return { addresses: records.map((r) => r.address), ttl: Math.min(...records.map((r) => r.ttl)) };
  };
}
