// zod schemas for the security.istio.io kinds (v1beta1, v1): PeerAuthentication,
// AuthorizationPolicy, RequestAuthentication. Unknown fields are errors; the cross-field rules are
// istiod's validation webhook and the CRDs' CEL rules, in their words where they have words. Two
// refusals are dietmesh's own: action CUSTOM (there is no ext_authz to delegate to) and attribute
// keys Istio accepts but dietmesh cannot evaluate, since silently ignoring either would change who
// gets in.
import { z } from "zod";
import type { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec } from "./types.ts";
import { bool, duration, obj, rule, str, stringList, stringMap } from "./schema-common.ts";
import { ipBlockProblem } from "../security/policy/ip-block.ts";
import { pathTemplateProblem } from "../security/policy/string-match.ts";
import { conditionKeyProblem } from "../security/policy/attributes.ts";

type Issue = { message: string; path?: PropertyKey[] };
/** runs `check` on each list item, reporting at the item's index */
function eachValue(check: (v: string) => string | undefined) {
  return z.array(z.string()).check((ctx) => {
    ctx.value.forEach((v, i) => {
      const problem = check(v);
      if (problem) ctx.issues.push({ code: "custom", input: v, path: [i], message: problem });
    });
  });
}
const nonEmpty = (v: string) => (v === "" ? "empty value not allowed" : undefined);
const values = eachValue(nonEmpty);
const ipBlocks = eachValue((v) => nonEmpty(v) ?? ipBlockProblem(v));
const ports = eachValue((v) => (/^[0-9]{1,5}$/.test(v) && Number(v) <= 65535 ? undefined : `expected a port number 0-65535 as a string, got ${JSON.stringify(v)}`));
const paths = eachValue((v) => nonEmpty(v) ?? pathTemplateProblem(v));
/** trust domains: Istio's CheckWildcardValues plus no "/" */
const trustDomains = eachValue((v) => {
  const stars = v.split("*").length - 1;
  if (v === "") return "empty value not allowed";
  if (stars > 1) return `at most one wildcard is allowed, got ${JSON.stringify(v)}`;
  if (stars === 1 && v !== "*" && !v.startsWith("*") && !v.endsWith("*")) return `a wildcard is only allowed at the start or end, got ${JSON.stringify(v)}`;
  if (v.includes("/")) return `a trust domain must not contain "/", got ${JSON.stringify(v)}`;
  return undefined;
});
/** "sa" (the policy's namespace) or "ns/sa", no wildcards */
const serviceAccounts = eachValue((v) => {
  if (v === "") return "empty value not allowed";
  if (v.includes("*")) return `wildcards are not allowed in service accounts, got ${JSON.stringify(v)}`;
  const parts = v.split("/");
  if (parts.length > 2 || parts.some((p) => p === "") || v.length > 320) return `expected "serviceAccount" or "namespace/serviceAccount", got ${JSON.stringify(v)}`;
  return undefined;
}).max(16);

const selector = obj({
  matchLabels: stringMap.check((ctx) => {
    for (const [k, v] of Object.entries(ctx.value)) {
      const problem = k === "" ? "key must not be empty" : k.includes("*") || v.includes("*") ? `wildcard is not supported in selector: "${k}=${v}"` : undefined;
      if (problem) ctx.issues.push({ code: "custom", input: ctx.value, path: [k], message: problem });
    }
  }).optional(),
});

const TARGET_KINDS = ["gateway.networking.k8s.io/Gateway", "gateway.networking.k8s.io/GatewayClass", "core/Service", "networking.istio.io/ServiceEntry"];
const targetRef = obj({ group: str.optional(), kind: str, name: str.min(1), namespace: str.optional() }).check(rule((ctx) => {
  const { group, kind, namespace } = ctx.value;
  if (namespace) ctx.issues.push({ code: "custom", input: namespace, path: ["namespace"], message: "targetRef namespace must not be set; cross namespace referencing is not supported" });
  if (!TARGET_KINDS.includes(`${group || "core"}/${kind}`)) {
    ctx.issues.push({ code: "custom", input: ctx.value, path: ["kind"], message: `targetRef must be to one of ${TARGET_KINDS.join(", ")}; got ${group ?? ""}/${kind}` });
  }
}));

/** selector, targetRef, targetRefs: at most one (the CRDs' CEL rule) */
function oneTarget(v: { selector?: unknown; targetRef?: unknown; targetRefs?: unknown[] }, add: (i: Issue) => void) {
  const set = [v.selector, v.targetRef, v.targetRefs].filter((x) => x !== undefined).length;
  if (set > 1) add({ message: "only one of targetRefs or selector can be set", path: ["targetRefs"] });
}

// ---------- PeerAuthentication ----------

const mtls = obj({ mode: z.enum(["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]).optional() });

const peerAuthenticationSpec = obj({
  selector: selector.optional(),
  mtls: mtls.optional(),
  portLevelMtls: z.record(z.string(), mtls).check((ctx) => {
    for (const key of Object.keys(ctx.value)) {
      if (!/^[0-9]{1,5}$/.test(key) || Number(key) < 1 || Number(key) > 65535) {
        ctx.issues.push({ code: "custom", input: key, path: [key], message: `port must be between 1-65535, got ${JSON.stringify(key)}` });
      }
    }
    if (!Object.keys(ctx.value).length) ctx.issues.push({ code: "custom", input: ctx.value, message: "port level mTLS, if defined, must have at least one element" });
  }).optional(),
}).check(rule((ctx) => {
  if (ctx.value.portLevelMtls && !Object.keys(ctx.value.selector?.matchLabels ?? {}).length) {
    ctx.issues.push({ code: "custom", input: ctx.value, path: ["portLevelMtls"], message: "portLevelMtls requires selector (mesh/namespace peer authentication cannot have port level mTLS)" });
  }
}));

// ---------- AuthorizationPolicy ----------

const source = obj({
  principals: values.optional(),
  notPrincipals: values.optional(),
  requestPrincipals: values.optional(),
  notRequestPrincipals: values.optional(),
  namespaces: values.optional(),
  notNamespaces: values.optional(),
  serviceAccounts: serviceAccounts.optional(),
  notServiceAccounts: serviceAccounts.optional(),
  ipBlocks: ipBlocks.optional(),
  notIpBlocks: ipBlocks.optional(),
  remoteIpBlocks: ipBlocks.optional(),
  notRemoteIpBlocks: ipBlocks.optional(),
  trustDomains: trustDomains.optional(),
  notTrustDomains: trustDomains.optional(),
}).check(rule((ctx) => {
  const s = ctx.value;
  if (!Object.values(s).some((v) => v !== undefined && v.length > 0)) {
    ctx.issues.push({ code: "custom", input: s, message: "`from.source` must not be empty (an empty source would match every caller; leave `from` out for that)" });
  }
  if ((s.serviceAccounts || s.notServiceAccounts) && (s.principals || s.notPrincipals || s.namespaces || s.notNamespaces)) {
    ctx.issues.push({ code: "custom", input: s, path: ["serviceAccounts"], message: "cannot set serviceAccounts with namespaces or principals" });
  }
}));

const operation = obj({
  hosts: values.optional(),
  notHosts: values.optional(),
  ports: ports.optional(),
  notPorts: ports.optional(),
  methods: values.optional(),
  notMethods: values.optional(),
  paths: paths.optional(),
  notPaths: paths.optional(),
}).check(rule((ctx) => {
  if (!Object.values(ctx.value).some((v) => v !== undefined && v.length > 0)) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: "`to.operation` must not be empty (an empty operation would match every request; leave `to` out for that)" });
  }
}));

const condition = obj({ key: str, values: stringList.optional(), notValues: stringList.optional() }).check(rule((ctx) => {
  const { key, values: vs, notValues } = ctx.value;
  const add = (message: string, path: PropertyKey[]) => ctx.issues.push({ code: "custom", input: ctx.value, path, message });
  if (key === "") return add("`key` must not be empty", ["key"]);
  if (!vs?.length && !notValues?.length) return add(`at least one of \`values\` or \`notValues\` must be set for key ${key}`, ["values"]);
  const keyProblem = conditionKeyProblem(key);
  if (keyProblem) return add(keyProblem, ["key"]);
  for (const [field, list] of [["values", vs], ["notValues", notValues]] as const) {
    list?.forEach((v, i) => {
      const problem = nonEmpty(v) ?? conditionValueProblem(key, v);
      if (problem) add(problem, [field, i]);
    });
  }
}));

function conditionValueProblem(key: string, v: string): string | undefined {
  if (key === "source.ip" || key === "remote.ip" || key === "destination.ip") return ipBlockProblem(v);
  if (key === "destination.port") return /^[0-9]{1,5}$/.test(v) && Number(v) <= 65535 ? undefined : `expected a port number, got ${JSON.stringify(v)}`;
  if (key === "source.serviceAccount") return serviceAccounts.safeParse([v]).error?.issues[0]?.message;
  if (key === "source.trustDomain") return trustDomains.safeParse([v]).error?.issues[0]?.message;
  return undefined;
}

/** each `from` / `to` list, when written, must hold something (istiod: "`from` must not be empty") */
const nonEmptyList = <T extends z.ZodType>(item: T, field: string) =>
  z.array(item).min(1, { error: `\`${field}\` must not be empty; leave it out to match any ${field === "from" ? "source" : "operation"}` });

/** `from: [{}]` and `to: [{}]` get istiod's words rather than "required field is missing" */
function entry<K extends "source" | "operation", T extends z.ZodType>(key: K, schema: T) {
  return obj({ [key]: schema.optional() } as Record<K, z.ZodOptional<T>>)
    .check(rule((ctx) => {
      if ((ctx.value as Record<string, unknown>)[key] === undefined) ctx.issues.push({ code: "custom", input: ctx.value, message: `\`${key === "source" ? "from.source" : "to.operation"}\` must not be empty` });
    }))
    .transform((v) => v as Record<K, z.output<T>>);
}

const authorizationRule = obj({
  from: nonEmptyList(entry("source", source), "from").optional(),
  to: nonEmptyList(entry("operation", operation), "to").optional(),
  when: z.array(condition).optional(),
});

const authorizationPolicySpec = obj({
  selector: selector.optional(),
  targetRef: targetRef.optional(),
  targetRefs: z.array(targetRef).max(16).optional(),
  rules: z.array(authorizationRule).max(512).optional(),
  action: z.enum(["ALLOW", "DENY", "AUDIT", "CUSTOM"]).optional(),
  provider: obj({ name: str.optional() }).optional(),
})
  .check(rule((ctx) => {
    const v = ctx.value;
    const add = (i: Issue) => ctx.issues.push({ code: "custom", input: v, path: i.path ?? [], message: i.message });
    oneTarget(v, add);
    if (v.action === "CUSTOM") {
      add({ path: ["action"], message: "action CUSTOM is not supported: dietmesh has no external authorization (ext_authz) provider to delegate to; use ALLOW or DENY rules" });
    } else if (v.provider) {
      add({ path: ["provider"], message: `\`provider\` must not be with non CUSTOM action, found ${v.action ?? "ALLOW"}` });
    }
    // an empty list is what the proto sees as no rules too
    if (v.action === "DENY" && !v.rules?.length) {
      add({ path: ["rules"], message: "DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request" });
    }
  }))
  .transform((v): AuthorizationPolicySpec => {
    const { provider: _provider, action, ...rest } = v;
    return { ...rest, ...(action ? { action: action as "ALLOW" | "DENY" | "AUDIT" } : {}) };
  });

// ---------- RequestAuthentication ----------

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const headerName = str.check((ctx) => {
  if (!HEADER_NAME.test(ctx.value)) ctx.issues.push({ code: "custom", input: ctx.value, message: `expected an HTTP header name, got ${JSON.stringify(ctx.value)}` });
});
const httpUrl = str.check((ctx) => {
  let scheme = "";
  try {
    scheme = new URL(ctx.value).protocol;
  } catch {
    /* reported below */
  }
  if (scheme !== "http:" && scheme !== "https:") ctx.issues.push({ code: "custom", input: ctx.value, message: `url must have scheme http:// or https://, got ${JSON.stringify(ctx.value)}` });
});

/** an inline JWK set: JSON with public asymmetric keys (symmetric "oct" keys are refused: see docs/security.md) */
const inlineJwks = str.check((ctx) => {
  let set: unknown;
  try {
    set = JSON.parse(ctx.value);
  } catch (e) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `jwks parse error: ${(e as Error).message}` });
    return;
  }
  const keys = (set as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "object" || k === null || typeof (k as { kty?: unknown }).kty !== "string")) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: 'jwks parse error: expected a JWK set, {"keys": [{"kty": ...}, ...]}' });
    return;
  }
  if (keys.some((k) => (k as { kty: string }).kty === "oct")) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: 'symmetric ("oct") keys are not supported: a shared secret in mesh config lets every reader forge tokens; use RSA, EC or Ed25519 keys' });
  }
});

const jwtRule = obj({
  issuer: str.optional(),
  audiences: values.optional(),
  jwksUri: httpUrl.optional(),
  jwks: inlineJwks.optional(),
  fromHeaders: z.array(obj({ name: headerName, prefix: str.optional() })).optional(),
  fromParams: values.optional(),
  fromCookies: values.optional(),
  outputPayloadToHeader: headerName.optional(),
  forwardOriginalToken: bool.optional(),
  outputClaimToHeaders: z.array(obj({ header: headerName, claim: str.min(1) })).optional(),
  timeout: duration().optional(),
  spaceDelimitedClaims: values.optional(),
}).check(rule((ctx) => {
  const v = ctx.value;
  const add = (message: string, path: PropertyKey[]) => ctx.issues.push({ code: "custom", input: v, path, message });
  if (!v.issuer && !v.jwksUri) add("issuer or jwksUri must be non-empty string", ["issuer"]);
  if (v.jwks && v.jwksUri) add("only one of jwks or jwksUri can be set", ["jwks"]);
  // istiod would discover the keys from the issuer's OpenID configuration; dietmesh does not
  if (!v.jwks && !v.jwksUri) add("dietmesh needs jwksUri or jwks to verify tokens (OpenID discovery from the issuer is not supported)", ["jwksUri"]);
}));

const requestAuthenticationSpec = obj({
  selector: selector.optional(),
  targetRef: targetRef.optional(),
  targetRefs: z.array(targetRef).max(16).optional(),
  jwtRules: z.array(jwtRule).max(4096).optional(),
}).check(rule((ctx) => oneTarget(ctx.value, (i) => ctx.issues.push({ code: "custom", input: ctx.value, path: i.path ?? [], message: i.message }))));

export const securitySpecSchemas: {
  PeerAuthentication: z.ZodType<PeerAuthenticationSpec>;
  AuthorizationPolicy: z.ZodType<AuthorizationPolicySpec>;
  RequestAuthentication: z.ZodType<RequestAuthenticationSpec>;
} = {
  PeerAuthentication: peerAuthenticationSpec,
  AuthorizationPolicy: authorizationPolicySpec,
  RequestAuthentication: requestAuthenticationSpec,
};

/**
 * Valid Istio that dietmesh accepts but treats differently enough to say so: policies attached
 * with targetRef(s). Istio attaches those to Kubernetes Gateways and waypoints, never to a
 * sidecar; dietmesh has neither, so such a policy applies to no workload here.
 */
export function securityNotices(spec: { targetRef?: unknown; targetRefs?: unknown[]; jwtRules?: { jwks?: string }[] }): Issue[] {
  const out: Issue[] = [];
  if (spec.targetRef || spec.targetRefs?.length) {
    const field = spec.targetRef ? "targetRef" : "targetRefs";
    out.push({ path: [field], message: `${field} attaches a policy to a Kubernetes Gateway or waypoint, which dietmesh does not run; this policy applies to no workload (use selector)` });
  }
  spec.jwtRules?.forEach((r, i) => {
    const keys = r.jwks ? (JSON.parse(r.jwks) as { keys: Record<string, unknown>[] }).keys : [];
    keys.forEach((k, j) => {
      if ("d" in k) out.push({ path: ["jwtRules", i, "jwks"], message: `jwks key at index ${j} contains private key material; only its public part is used` });
    });
  });
  return out;
}
