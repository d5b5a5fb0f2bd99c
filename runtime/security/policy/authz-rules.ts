// One AuthorizationPolicy rule → one predicate over a request, compiled once. Istio's semantics:
// a rule matches when some `from` source, some `to` operation and every `when` condition match
// (an absent `from`/`to` matches anything, so `{}` matches every request); inside a source or an
// operation every field given must match; `values` are OR'd and `notValues` means "none of these".
// An attribute the request does not have (no mTLS principal, no JWT) matches no value, so it
// satisfies every `not...` field, as in Envoy.
//
// Repeated request headers arrive joined by ", " (Headers.get). A condition on a header therefore
// looks at the joined value and at each comma-separated piece. `values` match when any of them
// matches. `notValues` depend on the policy: in ALLOW ("allow unless the header is x") none of them
// may match, so a prepended or appended "x" still blocks; in DENY and AUDIT ("deny unless the
// header is x") any piece that is not x is enough to deny, so "x, y" cannot borrow x's pass.
import type { AuthorizationCondition, AuthorizationOperation, AuthorizationRule, AuthorizationSource } from "../../config/types.ts";
import { parseConditionKey, type RequestView } from "./attributes.ts";
import { ipInBlock, parseIpBlock, type IpBlock, type IpBytes } from "./ip-block.ts";
import { anyOf, istioMatcher, pathMatcher, type StringPredicate } from "./string-match.ts";

export type RequestPredicate = (r: RequestView) => boolean;

export interface RuleContext {
  /** ALLOW: false; DENY and AUDIT: true (see the header note above) */
  denySide: boolean;
  /** the policy's namespace: a bare service account name means one in it */
  namespace: string;
}

const always: RequestPredicate = () => true;

function and(ps: RequestPredicate[]): RequestPredicate {
  if (ps.length === 0) return always;
  if (ps.length === 1) return ps[0];
  return (r) => {
    for (const p of ps) if (!p(r)) return false;
    return true;
  };
}

function or(ps: RequestPredicate[]): RequestPredicate {
  if (ps.length === 1) return ps[0];
  return (r) => {
    for (const p of ps) if (p(r)) return true;
    return false;
  };
}

/** adds `values` as "one of" and `notValues` as "none of" for an attribute read by `read` */
function field<T>(
  out: RequestPredicate[], values: readonly string[] | undefined, notValues: readonly string[] | undefined,
  compile: (patterns: readonly string[]) => (attr: T) => boolean, read: (r: RequestView) => T | undefined,
) {
  if (values?.length) {
    const m = compile(values);
    out.push((r) => {
      const v = read(r);
      return v !== undefined && m(v);
    });
  }
  if (notValues?.length) {
    const m = compile(notValues);
    out.push((r) => {
      const v = read(r);
      return v === undefined || !m(v);
    });
  }
}

const strings = (patterns: readonly string[]) => anyOf(patterns);

function ipBlocks(patterns: readonly string[]): (ip: IpBytes) => boolean {
  const blocks = patterns.map((p) => parseIpBlock(p)).filter((b): b is IpBlock => b !== undefined);
  return (ip) => blocks.some((b) => ipInBlock(ip, b));
}

function ports(patterns: readonly string[]): (port: number) => boolean {
  const set = new Set(patterns.map(Number));
  return (port) => set.has(port);
}

/** "ns/sa", or "sa" in the policy's namespace; exact, no wildcards (validated at load) */
function serviceAccounts(namespace: string) {
  return (patterns: readonly string[]) => {
    const want = new Set(patterns.map((p) => (p.includes("/") ? p : `${namespace}/${p}`)));
    return (sa: { namespace: string; name: string }) => want.has(`${sa.namespace}/${sa.name}`);
  };
}

/** Istio splits a requestPrincipals value at its last "/" into issuer and subject patterns */
function requestPrincipals(patterns: readonly string[]): (p: { iss: string; sub: string }) => boolean {
  const nonEmpty: StringPredicate = (v) => v.length > 0;
  const exact = (x: string): StringPredicate => (v) => v === x;
  const ms = patterns.map((value): [StringPredicate, StringPredicate] => {
    const slash = value.lastIndexOf("/");
    const found = slash !== -1;
    const iss = found ? value.slice(0, slash) : value;
    const sub = found ? value.slice(slash + 1) : "";
    if (value === "*") return [nonEmpty, nonEmpty];
    if (value.startsWith("*")) {
      if (!found) return [nonEmpty, istioMatcher(value)];
      return [iss === "*" ? nonEmpty : istioMatcher(iss), exact(sub)];
    }
    if (value.endsWith("*")) {
      if (!found) return [istioMatcher(value), nonEmpty];
      return [exact(iss), sub === "*" ? nonEmpty : istioMatcher(sub)];
    }
    return [exact(iss), exact(sub)];
  });
  return (p) => ms.some(([i, s]) => i(p.iss) && s(p.sub));
}

/** host patterns: case-insensitive, trailing dots ignored; a pattern without a port also matches the host with one */
function hosts(patterns: readonly string[]): (h: { name: string; withPort?: string }) => boolean {
  const m = anyOf(patterns.map((p) => p.toLowerCase().replace(/\.+(?=:[0-9]*$|$)/, "")));
  return (h) => m(h.name) || (h.withPort !== undefined && m(h.withPort));
}

/** a claim's values as Envoy's list-or-string matcher sees them; other types match nothing */
function claimValues(claims: unknown, path: readonly string[]): string[] | undefined {
  let v: unknown = claims;
  for (const key of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return undefined;
}

const someOf = (patterns: readonly string[]) => {
  const m = anyOf(patterns);
  return (list: string[]) => list.some(m);
};

/** request.headers[name]: see the note at the top of this file */
function headerCondition(out: RequestPredicate[], name: string, c: AuthorizationCondition, ctx: RuleContext) {
  const compile = (patterns: readonly string[]) => {
    // "*" is Envoy's present_match: any value, even empty
    const ms = patterns.map((p) => (p === "*" ? () => true : istioMatcher(p)));
    return (v: string) => ms.some((m) => m(v));
  };
  const candidates = (r: RequestView): string[] | undefined => {
    const joined = r.attrs.headers.get(name);
    if (joined === null) return undefined;
    return joined.includes(",") ? [joined, ...joined.split(",").map((s) => s.trim())] : [joined];
  };
  if (c.values?.length) {
    const m = compile(c.values);
    out.push((r) => candidates(r)?.some(m) ?? false);
  }
  if (c.notValues?.length) {
    const m = compile(c.notValues);
    out.push(ctx.denySide
      ? (r) => {
          const cs = candidates(r);
          return cs === undefined || cs.some((v) => !m(v));
        }
      : (r) => !(candidates(r)?.some(m) ?? false));
  }
}

function condition(out: RequestPredicate[], c: AuthorizationCondition, ctx: RuleContext) {
  const key = parseConditionKey(c.key);
  if (typeof key === "string") throw new Error(key); // the loader refuses these; reaching here is a bug
  const { values, notValues } = c;
  switch (key.kind) {
    case "header": return headerCondition(out, key.name, c, ctx);
    case "claims": return field(out, values, notValues, someOf, (r) => claimValues(r.attrs.claims, key.path));
    case "source.ip": return field(out, values, notValues, ipBlocks, (r) => r.ip("source"));
    case "remote.ip": return field(out, values, notValues, ipBlocks, (r) => r.ip("remote"));
    case "destination.ip": return field(out, values, notValues, ipBlocks, (r) => r.ip("destination"));
    case "destination.port": return field(out, values, notValues, ports, (r) => r.attrs.port);
    case "source.namespace": return field(out, values, notValues, strings, (r) => r.sourceNamespace());
    case "source.principal": return field(out, values, notValues, strings, (r) => r.attrs.principal);
    case "source.serviceAccount": return field(out, values, notValues, serviceAccounts(ctx.namespace), (r) => r.serviceAccount());
    case "source.trustDomain": return field(out, values, notValues, strings, (r) => r.trustDomain());
    case "request.auth.principal": return field(out, values, notValues, requestPrincipals, (r) => r.issuerAndSubject());
    case "request.auth.audiences": return field(out, values, notValues, someOf, (r) => claimValues(r.attrs.claims, ["aud"]));
    case "request.auth.presenter": return field(out, values, notValues, someOf, (r) => claimValues(r.attrs.claims, ["azp"]));
    case "connection.sni": return field(out, values, notValues, hosts, (r) => (r.attrs.sni === undefined ? undefined : { name: r.attrs.sni.toLowerCase().replace(/\.+$/, "") }));
  }
}

function source(s: AuthorizationSource, ctx: RuleContext): RequestPredicate {
  const out: RequestPredicate[] = [];
  field(out, s.principals, s.notPrincipals, strings, (r) => r.attrs.principal);
  field(out, s.requestPrincipals, s.notRequestPrincipals, requestPrincipals, (r) => r.issuerAndSubject());
  field(out, s.namespaces, s.notNamespaces, strings, (r) => r.sourceNamespace());
  field(out, s.serviceAccounts, s.notServiceAccounts, serviceAccounts(ctx.namespace), (r) => r.serviceAccount());
  field(out, s.trustDomains, s.notTrustDomains, strings, (r) => r.trustDomain());
  field(out, s.ipBlocks, s.notIpBlocks, ipBlocks, (r) => r.ip("source"));
  field(out, s.remoteIpBlocks, s.notRemoteIpBlocks, ipBlocks, (r) => r.ip("remote"));
  return and(out);
}

function operation(o: AuthorizationOperation): RequestPredicate {
  const out: RequestPredicate[] = [];
  field(out, o.hosts, o.notHosts, hosts, (r) => r.host());
  field(out, o.ports, o.notPorts, ports, (r) => r.attrs.port);
  field(out, o.methods, o.notMethods, strings, (r) => r.attrs.method);
  const paths = (patterns: readonly string[]) => {
    const ms = patterns.map(pathMatcher);
    return (p: string) => ms.some((m) => m(p));
  };
  field(out, o.paths, o.notPaths, paths, (r) => r.attrs.path);
  return and(out);
}

export function compileRule(rule: AuthorizationRule, ctx: RuleContext): RequestPredicate {
  const parts: RequestPredicate[] = [];
  if (rule.from) parts.push(or(rule.from.map((f) => source(f.source, ctx))));
  if (rule.to) parts.push(or(rule.to.map((t) => operation(t.operation))));
  for (const c of rule.when ?? []) condition(parts, c, ctx);
  return and(parts);
}
