// SPIFFE IDs as a parsed, immutable value: `spiffe://<trust-domain>/<path>`, checked once against
// the SPIFFE ID spec so that nothing downstream ever compares or slices identity strings by hand.
import { SecurityError } from "./errors.ts";

/** which rule of the SPIFFE ID spec a string broke */
export type SpiffeIdRule =
  | "empty"
  | "too-long" // over 2048 bytes (whole ID) or 255 bytes (trust domain)
  | "scheme" // not `spiffe://` (lower case, as the spec requires)
  | "trust-domain-missing"
  | "trust-domain-chars" // only a-z 0-9 . _ - (no upper case, no percent-encoding)
  | "userinfo" // `user@` before the trust domain
  | "port" // `:port` after the trust domain
  | "query-or-fragment"
  | "path-chars" // only a-z A-Z 0-9 . _ -
  | "empty-segment" // `//`
  | "dot-segment" // `.` or `..`
  | "trailing-slash";

export class SpiffeIdError extends SecurityError {
  override name = "SpiffeIdError";
  constructor(
    readonly rule: SpiffeIdRule,
    readonly input: string,
    message: string,
  ) {
    super("spiffe-id-invalid", `invalid SPIFFE ID ${JSON.stringify(input.slice(0, 120))}: ${message}`);
  }
}

const SCHEME = "spiffe://";
const MAX_ID_BYTES = 2048;
const MAX_TRUST_DOMAIN_BYTES = 255;
const TRUST_DOMAIN_CHARS = /^[a-z0-9._-]+$/;
const SEGMENT_CHARS = /^[a-zA-Z0-9._-]+$/;
const utf8 = new TextEncoder();

export class SpiffeId {
  private constructor(
    /** lower-case trust domain name, e.g. "cluster.local" */
    readonly trustDomain: string,
    /** "" for the trust domain's own ID, otherwise "/seg/seg..." */
    readonly path: string,
  ) {
    Object.freeze(this);
  }

  /** parses or throws a SpiffeIdError naming the broken rule */
  static parse(text: string): SpiffeId {
    return new SpiffeId(...split(text));
  }

  /** the same, as a result for callers that validate many values (config, tests) */
  static tryParse(text: string): { ok: true; id: SpiffeId } | { ok: false; error: SpiffeIdError } {
    try {
      return { ok: true, id: SpiffeId.parse(text) };
    } catch (error) {
      if (error instanceof SpiffeIdError) return { ok: false, error };
      throw error;
    }
  }

  /** the trust domain's own ID, spiffe://<td>; checks that `trustDomain` is a bare name */
  static forTrustDomain(trustDomain: string): SpiffeId {
    const id = SpiffeId.parse(SCHEME + trustDomain);
    if (id.path !== "") throw new SpiffeIdError("trust-domain-chars", SCHEME + trustDomain, "a trust domain has no path");
    return id;
  }

  /** Istio's workload identity: spiffe://<td>/ns/<namespace>/sa/<serviceAccount> */
  static forWorkload(trustDomain: string, namespace: string, serviceAccount: string): SpiffeId {
    const text = `${SCHEME}${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
    const id = SpiffeId.parse(text);
    // a "/" inside a name would still parse, as a different (longer) path: refuse it
    if (id.namespace() !== namespace || id.serviceAccount() !== serviceAccount) {
      throw new SpiffeIdError("path-chars", text, "namespace and service account must each be one path segment");
    }
    return id;
  }

  /** an AuthorizationPolicy principal, `<td>/ns/<ns>/sa/<sa>`, back to the ID it stands for */
  static fromPrincipal(principal: string): SpiffeId {
    return SpiffeId.parse(SCHEME + principal);
  }

  segments(): string[] {
    return this.path === "" ? [] : this.path.slice(1).split("/");
  }

  /** the namespace when the path is Istio's /ns/<ns>/sa/<sa>, else undefined */
  namespace(): string | undefined {
    return this.istio()?.[0];
  }

  /** the service account when the path is Istio's /ns/<ns>/sa/<sa>, else undefined */
  serviceAccount(): string | undefined {
    return this.istio()?.[1];
  }

  /** the form AuthorizationPolicy `principals` and `source.principal` use: the ID without `spiffe://` */
  principal(): string {
    return this.trustDomain + this.path;
  }

  equals(other: SpiffeId): boolean {
    return this.trustDomain === other.trustDomain && this.path === other.path;
  }

  toString(): string {
    return SCHEME + this.trustDomain + this.path;
  }

  toJSON(): string {
    return this.toString();
  }

  private istio(): [string, string] | undefined {
    const s = this.segments();
    return s.length === 4 && s[0] === "ns" && s[2] === "sa" ? [s[1], s[3]] : undefined;
  }
}

/** shorthand for SpiffeId.parse */
export function parseSpiffeId(text: string): SpiffeId {
  return SpiffeId.parse(text);
}

/** the checks, in the order that gives the most useful message for a given mistake */
function split(text: string): [string, string] {
  const fail = (rule: SpiffeIdRule, message: string): never => {
    throw new SpiffeIdError(rule, text, message);
  };
  if (text === "") fail("empty", "empty string");
  if (utf8.encode(text).length > MAX_ID_BYTES) fail("too-long", `longer than ${MAX_ID_BYTES} bytes`);
  if (!text.startsWith(SCHEME)) fail("scheme", `must start with "${SCHEME}"`);
  if (/[?#]/.test(text)) fail("query-or-fragment", "must not have a query or fragment");
  const rest = text.slice(SCHEME.length);
  const slash = rest.indexOf("/");
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  if (trustDomain === "") fail("trust-domain-missing", "no trust domain");
  if (trustDomain.includes("@")) fail("userinfo", "must not have user info");
  if (trustDomain.includes(":")) fail("port", "must not have a port");
  if (!TRUST_DOMAIN_CHARS.test(trustDomain)) fail("trust-domain-chars", "trust domain may only contain a-z, 0-9, '.', '_' and '-'");
  if (trustDomain.length > MAX_TRUST_DOMAIN_BYTES) fail("too-long", `trust domain longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`);
  if (path === "") return [trustDomain, ""];
  if (path.endsWith("/")) fail("trailing-slash", "path must not end with '/'");
  for (const segment of path.slice(1).split("/")) {
    if (segment === "") fail("empty-segment", "path has an empty segment");
    if (segment === "." || segment === "..") fail("dot-segment", "path must not have '.' or '..' segments");
    if (!SEGMENT_CHARS.test(segment)) fail("path-chars", "path segments may only contain a-z, A-Z, 0-9, '.', '_' and '-'");
  }
  return [trustDomain, path];
}
