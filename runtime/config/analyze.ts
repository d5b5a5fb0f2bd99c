// Cross-reference checks on a loaded MeshConfig, in the spirit of istioctl analyze: subsets no
// DestinationRule defines, Gateways that do not exist, hosts nobody knows, weights adding up to 0,
// TLS origination asked for a TCP port or a tcp/tls route (l4-honesty.ts).
// Each resource was valid on its own; these are the mistakes only the whole picture shows.
import type { Destination, DestinationRule, MeshConfig } from "./types.ts";
import type { ConfigError, ConfigErrorCode, Severity } from "./errors.ts";
import { formatPath } from "./errors.ts";
import { DEFAULT_DOMAIN_SUFFIX, expandHost, hostMatches, normalizeHost } from "../model/hosts.ts";
import { indexDestinationRules, mergedFrom } from "../model/destination-rules.ts";
import { originationProblems } from "./l4-honesty.ts";

const key = (dr: DestinationRule) => `${dr.metadata.namespace}/${dr.metadata.name}`;

export interface AnalyzeOptions {
  /** FQDNs the service registry knows (e.g. "reviews.default.svc.cluster.local") */
  knownHosts: Iterable<string>;
  domainSuffix?: string;
}

/** the routes of tcp and tls blocks, which types.ts keeps as unknown[] */
interface L4Route {
  match?: { gateways?: string[] }[];
  route?: { destination: Destination; weight?: number }[];
}

/** "ns/name", "name.ns(.svc.cluster.local)" (Istio's older form) or "name" in the VS's namespace */
export function gatewayKey(ref: string, namespace: string): string {
  if (ref.includes("/")) return ref;
  const [name, ns] = ref.split(".");
  return ns ? `${ns}/${name}` : `${namespace}/${name}`;
}

export function analyzeConfig(config: MeshConfig, options: AnalyzeOptions): ConfigError[] {
  const suffix = options.domainSuffix ?? DEFAULT_DOMAIN_SUFFIX;
  const out: ConfigError[] = [];
  const gateways = new Set(config.gateways.map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
  const known = new Set([...options.knownHosts].map(normalizeHost));
  // ServiceEntry hosts are literal, and a wildcard one ("*.example.com") covers many
  const entryHosts = config.serviceEntries.flatMap((se) => se.spec.hosts.map(normalizeHost));
  for (const h of entryHosts) known.add(h);
  const wildcards = entryHosts.filter((h) => h.startsWith("*"));
  // the rules by exact host, and the wildcard ones: a lookup per destination instead of a scan of
  // every rule (1,000 rules × 3,000 destinations at 10,000 services, on every reload; issue 11)
  const exactRules = new Map<string, { at: number; dr: DestinationRule }[]>();
  const wildcardRules: { at: number; host: string; dr: DestinationRule }[] = [];
  config.destinationRules.forEach((dr, at) => {
    const host = expandHost(dr.spec.host, dr.metadata.namespace, suffix);
    if (host.startsWith("*")) wildcardRules.push({ at, host, dr });
    else {
      const list = exactRules.get(host);
      if (list) list.push({ at, dr });
      else exactRules.set(host, [{ at, dr }]);
    }
  });

  // the rule in force for a host, merged as the model merges (model/destination-rules.ts); rules with
  // a workloadSelector are left out there, as no proxy is given: see checkDestination
  const inForce = indexDestinationRules(config.destinationRules, undefined, suffix);
  // every rule for the host, listed in config order
  const rulesFor = (host: string): DestinationRule[] => {
    const found = [...(exactRules.get(host) ?? []), ...wildcardRules.filter((r) => r.host === host || hostMatches(r.host, host))];
    if (found.length > 1) found.sort((a, b) => a.at - b.at);
    return found.map((r) => r.dr);
  };

  for (const vs of config.virtualServices) {
    const ns = vs.metadata.namespace;
    const report = (code: ConfigErrorCode, severity: Severity, path: PropertyKey[], message: string) =>
      out.push({
        code, severity, file: vs.origin.file, document: vs.origin.document, kind: vs.kind, name: vs.metadata.name,
        namespace: ns, path: formatPath(path), message,
      });

    const checkGateway = (ref: string, path: PropertyKey[]) => {
      if (ref === "mesh") return;
      const key = gatewayKey(ref, ns);
      if (!gateways.has(key)) report("unknown-gateway", "error", path, `Gateway ${key} does not exist`);
    };

    const checkDestination = (d: Destination, path: PropertyKey[]) => {
      const host = expandHost(d.host, ns, suffix);
      if (!host.includes("*") && !known.has(host) && !wildcards.some((w) => hostMatches(w, host))) {
        report("unknown-host", "warning", [...path, "host"], `host ${host} is neither a known service nor a ServiceEntry host`);
      }
      if (d.subset === undefined) return;
      const defines = (dr: DestinationRule) => dr.spec.subsets?.some((s) => s.name === d.subset) ?? false;
      const rule = inForce.find(host);
      if (rule && defines(rule)) return;
      const all = rulesFor(host);
      // a selecting rule is the one in force for the proxies it selects (the model takes it alone)
      if (all.some((dr) => dr.spec.workloadSelector && defines(dr))) return;
      const definers = all.filter(defines);
      if (rule && definers.length) {
        const parts = mergedFrom(rule);
        const ruleHost = expandHost(rule.spec.host, rule.metadata.namespace, suffix);
        const why = definers.map((dr) => {
          const drHost = expandHost(dr.spec.host, dr.metadata.namespace, suffix);
          const reason = drHost !== ruleHost
            ? `its host ${drHost} is less specific than ${ruleHost}`
            : `it is in namespace ${dr.metadata.namespace}, and only the rules of ${rule.metadata.namespace} (the oldest rule's) merge`;
          return `DestinationRule ${key(dr)} defines it, but ${reason}`;
        });
        report("unknown-subset", "error", [...path, "subset"],
          `subset "${d.subset}" of ${host} is not defined by the DestinationRule in force for it: ${parts.map(key).join(" merged with ")} has ${rule.spec.subsets?.map((s) => s.name).join(", ") || "no subsets"} (${why.join("; ")})`);
        return;
      }
      const seen = all.map((dr) => `DestinationRule ${key(dr)} has ${dr.spec.subsets?.map((s) => s.name).join(", ") || "no subsets"}`);
      const detail = seen.length ? ` (${seen.join("; ")})` : ` (no DestinationRule for ${host})`;
      report("unknown-subset", "error", [...path, "subset"], `subset "${d.subset}" of ${host} is not defined by any DestinationRule${detail}`);
    };

    const checkWeights = (route: { weight?: number }[] | undefined, path: PropertyKey[]) => {
      // a lone destination takes all traffic whatever its weight; several share by weight
      if (!route || route.length < 2) return;
      if (route.reduce((sum, r) => sum + (r.weight ?? 0), 0) === 0) {
        report("zero-weight", "error", path, "the destination weights add up to 0, so no destination can be picked");
      }
    };

    vs.spec.gateways?.forEach((g, i) => checkGateway(g, ["spec", "gateways", i]));
    vs.spec.http.forEach((r, i) => {
      const at = ["spec", "http", i];
      r.match?.forEach((m, j) => m.gateways?.forEach((g, k) => checkGateway(g, [...at, "match", j, "gateways", k])));
      r.route?.forEach((d, j) => checkDestination(d.destination, [...at, "route", j, "destination"]));
      if (r.mirror) checkDestination(r.mirror, [...at, "mirror"]);
      r.mirrors?.forEach((m, j) => checkDestination(m.destination, [...at, "mirrors", j, "destination"]));
      checkWeights(r.route, [...at, "route"]);
    });
    for (const block of ["tcp", "tls"] as const) {
      (vs.spec[block] as L4Route[] | undefined)?.forEach((r, i) => {
        const at = ["spec", block, i];
        r.match?.forEach((m, j) => m.gateways?.forEach((g, k) => checkGateway(g, [...at, "match", j, "gateways", k])));
        r.route?.forEach((d, j) => checkDestination(d.destination, [...at, "route", j, "destination"]));
        checkWeights(r.route, [...at, "route"]);
      });
    }
  }
  // TLS origination asked for bytes the TCP proxy carries as they come (config/l4-honesty.ts)
  for (const p of originationProblems(config, inForce, suffix)) {
    const r = p.resource;
    out.push({
      code: "unsupported-field", severity: "error", file: r.origin.file, document: r.origin.document, kind: r.kind,
      name: r.metadata.name, namespace: r.metadata.namespace, path: formatPath(p.path), message: p.message,
    });
  }
  return out;
}
