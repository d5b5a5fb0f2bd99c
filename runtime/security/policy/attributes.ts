// What an authorization decision looks at: the request attributes the caller hands in, and the
// condition keys (`when: - key: ...`) AuthorizationPolicy may name, parsed once. Derived values a
// policy may ask for (the caller's namespace from its principal, a parsed IP) are computed at most
// once per request by RequestView.
import type { JWTPayload } from "jose";
import { parseIp, type IpBytes } from "./ip-block.ts";

/** the attributes of one request, as the inbound pipeline knows them */
export interface AuthzAttributes {
  /** Host / :authority as received (case and a trailing dot do not matter; a port may be present) */
  host: string;
  method: string;
  /** already normalized (normalizePath), without the query */
  path: string;
  /** the destination port the request arrived on */
  port: number;
  headers: Headers;
  /** the peer address of the connection */
  sourceIp: string;
  /** the original client (X-Forwarded-For / proxy protocol, as trusted); the peer address when unknown */
  remoteIp: string;
  destinationIp?: string;
  /** mTLS peer identity in Istio's form, `<td>/ns/<ns>/sa/<sa>` (a SPIFFE ID without spiffe://) */
  principal?: string;
  /** `<iss>/<sub>` from a verified JWT */
  requestPrincipal?: string;
  /** the verified JWT's claims, as RequestAuthentication returns them */
  claims?: JWTPayload;
  /** TLS server name the client asked for */
  sni?: string;
}

export type ConditionKey =
  | { kind: "header"; name: string }
  | { kind: "claims"; path: string[] }
  | {
      kind:
        | "source.ip" | "remote.ip" | "source.namespace" | "source.serviceAccount" | "source.principal" | "source.trustDomain"
        | "request.auth.principal" | "request.auth.audiences" | "request.auth.presenter"
        | "destination.ip" | "destination.port" | "connection.sni";
    };

const PLAIN = new Set([
  "source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal", "source.trustDomain",
  "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port", "connection.sni",
]);

/** "[a][b]" → ["a", "b"]; "[a.b]" stays one name, as Istio reads it */
export function claimPath(brackets: string): string[] | undefined {
  const out: string[] = [];
  const re = /\[([^[\]]+)\]/y;
  let end = 0;
  for (let m = re.exec(brackets); m; m = re.exec(brackets)) {
    out.push(m[1]);
    end = re.lastIndex;
  }
  return out.length && end === brackets.length ? out : undefined;
}

/** the key parsed, or a message saying why dietmesh refuses it */
export function parseConditionKey(key: string): ConditionKey | string {
  if (PLAIN.has(key)) return { kind: key } as ConditionKey;
  const header = /^request\.headers\[([^[\]]+)\]$/.exec(key);
  if (header) return { kind: "header", name: header[1].toLowerCase() };
  if (key.startsWith("request.headers")) return `bad key (${key}): should have format request.headers[<name>]`;
  if (key.startsWith("request.auth.claims")) {
    const path = claimPath(key.slice("request.auth.claims".length));
    return path ? { kind: "claims", path } : `bad key (${key}): should have format request.auth.claims[<name>] or request.auth.claims[<a>][<b>]`;
  }
  if (key.startsWith("experimental.envoy.filters.")) return `attribute ${key} reads Envoy filter metadata, which dietmesh does not have`;
  if (key === "destination.namespace") return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith("destination.labels")) return `attribute ${key} is replaced by the workload selector`;
  if (key === "destination.name" || key === "destination.user") return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

export function conditionKeyProblem(key: string): string | undefined {
  const parsed = parseConditionKey(key);
  return typeof parsed === "string" ? parsed : undefined;
}

/** Istio's principal `<td>/ns/<ns>/sa/<sa>` → its parts, when it has that shape */
function istioIdentity(principal: string | undefined): { trustDomain: string; namespace?: string; serviceAccount?: string } | undefined {
  if (!principal) return undefined;
  const slash = principal.indexOf("/");
  const trustDomain = slash === -1 ? principal : principal.slice(0, slash);
  const segs = slash === -1 ? [] : principal.slice(slash + 1).split("/");
  if (segs.length === 4 && segs[0] === "ns" && segs[2] === "sa" && segs[1] && segs[3]) {
    return { trustDomain, namespace: segs[1], serviceAccount: segs[3] };
  }
  return { trustDomain };
}

const UNSET = Symbol("unset");

/** one request's attributes plus what policies derive from them, each derived value computed once */
export class RequestView {
  private identity: ReturnType<typeof istioIdentity> | typeof UNSET = UNSET;
  private ips: Partial<Record<"source" | "remote" | "destination", IpBytes | null>> = {};
  private hostParts: { name: string; withPort?: string } | undefined;

  constructor(readonly attrs: AuthzAttributes) {}

  private id() {
    if (this.identity === UNSET) this.identity = istioIdentity(this.attrs.principal);
    return this.identity;
  }

  sourceNamespace(): string | undefined {
    return this.id()?.namespace;
  }

  serviceAccount(): { namespace: string; name: string } | undefined {
    const id = this.id();
    return id?.namespace && id.serviceAccount ? { namespace: id.namespace, name: id.serviceAccount } : undefined;
  }

  trustDomain(): string | undefined {
    return this.id()?.trustDomain;
  }

  ip(which: "source" | "remote" | "destination"): IpBytes | undefined {
    let v = this.ips[which];
    if (v === undefined) {
      const text = which === "source" ? this.attrs.sourceIp : which === "remote" ? this.attrs.remoteIp : this.attrs.destinationIp;
      v = this.ips[which] = (text && parseIp(text)) || null;
    }
    return v ?? undefined;
  }

  /** the host lower-cased without trailing dots, alone and (when a port was given) with it */
  host(): { name: string; withPort?: string } {
    if (this.hostParts) return this.hostParts;
    const raw = this.attrs.host.toLowerCase();
    let name = raw;
    let port: string | undefined;
    const close = raw.startsWith("[") ? raw.indexOf("]") : -1;
    const colon = raw.lastIndexOf(":");
    if (colon > close && (close !== -1 || raw.indexOf(":") === colon)) {
      name = raw.slice(0, colon);
      port = raw.slice(colon + 1);
    }
    name = name.replace(/\.+$/, "");
    return (this.hostParts = { name, withPort: port !== undefined ? `${name}:${port}` : undefined });
  }

  /** iss and sub of the request's JWT, from the claims or else from `iss/sub` */
  issuerAndSubject(): { iss: string; sub: string } | undefined {
    const c = this.attrs.claims;
    if (c && (typeof c.iss === "string" || typeof c.sub === "string")) return { iss: typeof c.iss === "string" ? c.iss : "", sub: typeof c.sub === "string" ? c.sub : "" };
    const p = this.attrs.requestPrincipal;
    if (!p) return undefined;
    const slash = p.lastIndexOf("/");
    return slash === -1 ? { iss: p, sub: "" } : { iss: p.slice(0, slash), sub: p.slice(slash + 1) };
  }
}
