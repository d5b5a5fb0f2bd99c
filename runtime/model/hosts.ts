// Istio's host-name rules. In VirtualService and DestinationRule a short name expands against the
// resource's namespace ("reviews" in ns "default" → "reviews.default.svc.cluster.local"); names with
// a dot and wildcards are taken as written. ServiceEntry hosts are always literal.

export const DEFAULT_DOMAIN_SUFFIX = "cluster.local";

/** lower-cases and strips one trailing dot, so "Foo.Bar." and "foo.bar" are the same host */
export function normalizeHost(host: string): string {
  const h = host.toLowerCase();
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

export function expandHost(host: string, namespace: string, domainSuffix = DEFAULT_DOMAIN_SUFFIX): string {
  const h = normalizeHost(host);
  if (h === "*" || h.includes(".")) return h;
  return `${h}.${namespace}.svc.${domainSuffix}`;
}

/**
 * The names a client in `clientNamespace` may use for a service, as Kubernetes DNS resolves them:
 * name.ns.svc.cluster.local, name.ns.svc, name.ns, and name alone from the same namespace.
 */
export function hostAliases(fqdn: string, clientNamespace: string, domainSuffix = DEFAULT_DOMAIN_SUFFIX): string[] {
  const suffix = `.svc.${domainSuffix}`;
  if (!fqdn.endsWith(suffix)) return [fqdn];
  const [name, ns] = fqdn.slice(0, -suffix.length).split(".");
  if (!name || !ns) return [fqdn];
  const out = [fqdn, `${name}.${ns}.svc`, `${name}.${ns}`];
  if (ns === clientNamespace) out.push(name);
  return out;
}

/**
 * A ServiceEntry address as the name a client uses for it (a Host header's or CONNECT authority's
 * host): "10.0.0.7", "[fd00::7]"; a single-address CIDR ("10.0.0.7/32", "fd00::7/128") is that
 * address. Wider blocks are refused at load (config/schemas.ts): a name cannot be a range.
 */
export function addressDomain(address: string): string {
  const slash = address.indexOf("/");
  const bare = (slash === -1 ? address : address.slice(0, slash)).toLowerCase();
  return bare.includes(":") && !bare.startsWith("[") ? `[${bare}]` : bare;
}

/** a Gateway server's hosts without their "ns/" part: the names the server answers */
export function serverHostNames(hosts: readonly string[]): string[] {
  return hosts.map((h) => normalizeHost(h.slice(h.indexOf("/") + 1)));
}

/**
 * The server hosts a VirtualService in `vsNamespace` may bind to, as Istio reads "ns/host": only
 * VirtualServices in namespace ns; ns "*" means any namespace, "." the Gateway's own; a host
 * without "ns/" takes any.
 */
export function serverHostsFor(hosts: readonly string[], gatewayNamespace: string, vsNamespace: string): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const slash = h.indexOf("/");
    const ns = slash === -1 ? "*" : h.slice(0, slash);
    if (ns === "*" || ns === vsNamespace || (ns === "." && gatewayNamespace === vsNamespace)) out.push(normalizeHost(h.slice(slash + 1)));
  }
  return out;
}

/** Istio wildcard host match: "*.example.com" matches "a.example.com" (and deeper); "*" matches all. */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*")) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** the host part of an authority ("Foo.com:8080" → "foo.com", "[::1]:80" → "[::1]") */
export function authorityHost(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return normalizeHost(authority.slice(0, end + 1));
  }
  const colon = authority.lastIndexOf(":");
  return normalizeHost(colon === -1 ? authority : authority.slice(0, colon));
}

/** the port of an authority, or undefined when none is given */
export function authorityPort(authority: string): number | undefined {
  const end = authority.startsWith("[") ? authority.indexOf("]") : -1;
  const colon = authority.lastIndexOf(":");
  if (colon === -1 || colon < end) return undefined;
  const port = Number(authority.slice(colon + 1));
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}
