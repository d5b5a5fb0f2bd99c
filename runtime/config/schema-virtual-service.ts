// VirtualService spec (networking.istio.io v1alpha3/v1beta1/v1), checked as Istio's CRD and its
// validating webhook would, and shaped as types.ts's VirtualServiceSpec (tsc proves it below).
import { z } from "zod";
import type { VirtualServiceSpec } from "./types.ts";
import {
  bool, duration, exportTo, hostName, int32, intPercent, obj, rejected, rule, percent, port, portSelector, regex, str, stringList,
  stringMap, stringMatch,
} from "./schema-common.ts";
import { headerOpsProblems } from "../routing/header-ops.ts";

const destination = obj({ host: hostName, subset: str.optional(), port: portSelector.optional() });

const headerOperations = (side: "request" | "response") =>
  obj({ set: stringMap.optional(), add: stringMap.optional(), remove: stringList.optional() }).check(rule((ctx) => {
    for (const p of headerOpsProblems(ctx.value, side)) ctx.issues.push({ code: "custom", input: ctx.value, path: p.path, message: p.message });
  }));
const headers = obj({ request: headerOperations("request").optional(), response: headerOperations("response").optional() });

const matchMap = z.record(z.string(), stringMatch);

const httpMatch = obj({
  name: str.optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: matchMap.optional(),
  port: port.optional(),
  sourceLabels: stringMap.optional(),
  gateways: stringList.optional(),
  queryParams: matchMap.optional(),
  ignoreUriCase: bool.optional(),
  withoutHeaders: matchMap.optional(),
  sourceNamespace: str.optional(),
  statPrefix: rejected("statPrefix is not supported by dietmesh (it keeps no per-route stats)"),
});

const routeDestination = obj({ destination, weight: int32.optional(), headers: headers.optional() });

type Ctx = { value: Record<string, unknown>; issues: z.core.$ZodRawIssue[] };
function fail(ctx: Ctx, message: string, path: PropertyKey[] = []) {
  ctx.issues.push({ code: "custom", input: ctx.value, message, path });
}
/** at most one of the keys may be set (a protobuf oneof) */
function oneOf(ctx: Ctx, keys: string[]) {
  const set = keys.filter((k) => ctx.value[k] !== undefined);
  if (set.length > 1) fail(ctx, `only one of ${keys.join(", ")} may be set, got ${set.join(" and ")}`, [set[1]]);
}

// Envoy only has these redirect codes; Istio drops a route with any other
const REDIRECT_CODES = [301, 302, 303, 307, 308];
const redirect = obj({
  uri: str.optional(),
  authority: str.optional(),
  port: port.optional(),
  derivePort: z.enum(["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"]).optional(),
  scheme: str.optional(),
  redirectCode: z
    .int()
    .refine((c) => REDIRECT_CODES.includes(c), { error: (i) => `expected one of ${REDIRECT_CODES.join(", ")}, got ${i.input}` })
    .optional(),
  prefixRewrite: rejected("redirect.prefixRewrite is not supported by dietmesh yet; use redirect.uri"),
}).check(rule((ctx) => {
  oneOf(ctx, ["port", "derivePort"]);
  oneOf(ctx, ["uri", "prefixRewrite"]);
}));

const directResponse = obj({
  status: z.int().min(200).max(599),
  body: obj({ string: str.optional(), bytes: str.optional() }).check(rule((ctx) => oneOf(ctx, ["string", "bytes"]))).optional(),
});

const rewrite = obj({
  uri: str.optional(),
  authority: str.optional(),
  uriRegexRewrite: obj({ match: regex, rewrite: str }).optional(),
}).check(rule((ctx) => oneOf(ctx, ["uri", "uriRegexRewrite"])));

// Istio's list (pilot/pkg/networking/core/route/retry); bare HTTP status codes are allowed too
const RETRY_ON = new Set([
  "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited", "retriable-4xx",
  "refused-stream", "retriable-status-codes", "retriable-headers", "http3-post-connect-failure", "cancelled",
  "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
]);
const retryOn = z.string().check((ctx) => {
  for (const raw of ctx.value.split(",")) {
    const p = raw.trim();
    if (RETRY_ON.has(p) || (/^\d{3}$/.test(p) && Number(p) >= 100 && Number(p) <= 599)) continue;
    ctx.issues.push({ code: "custom", input: ctx.value, message: `${JSON.stringify(p)} is not a retryOn policy (expected e.g. "5xx", "gateway-error", "connect-failure" or a status code such as "503")` });
  }
});

const retries = obj({
  attempts: int32.optional(),
  perTryTimeout: duration().optional(),
  retryOn: retryOn.optional(),
  retryRemoteLocalities: bool.optional(),
  // Istio's default is true, which is what dietmesh's retries always do (a retry prefers a host
  // not tried yet, router/retry-state.ts); false would need retries to the same host
  retryIgnorePreviousHosts: bool.check((ctx) => {
    if (!ctx.value) ctx.issues.push({ code: "custom", input: ctx.value, message: "retryIgnorePreviousHosts: false is not supported by dietmesh (its retries always prefer hosts not tried yet, Istio's default true)" });
  }).optional(),
  backoff: duration().optional(),
});

const fault = obj({
  delay: obj({
    fixedDelay: duration(),
    exponentialDelay: rejected("exponentialDelay is not supported (Istio does not implement it either); use fixedDelay"),
    percentage: percent.optional(),
    percent: intPercent.optional(),
  }).optional(),
  abort: obj({
    httpStatus: z.int().min(200).max(599).optional(),
    grpcStatus: str.optional(),
    // an abort that silently aborted nothing would hide the test it was written for
    http2Error: rejected("http2Error is not supported by dietmesh yet; use httpStatus or grpcStatus"),
    percentage: percent.optional(),
    // not in today's proto, but older Istio had it and the alphabet showcase uses it
    percent: intPercent.optional(),
  }).check(rule((ctx) => {
    oneOf(ctx, ["httpStatus", "grpcStatus"]);
    if (ctx.value.httpStatus === undefined && ctx.value.grpcStatus === undefined) {
      fail(ctx, "abort needs httpStatus or grpcStatus");
    }
  })).optional(),
});

const corsPolicy = obj({
  allowOrigin: stringList.optional(), // deprecated: exact origins, folded into allowOrigins below
  allowOrigins: z.array(stringMatch).optional(),
  allowMethods: stringList.optional(),
  allowHeaders: stringList.optional(),
  exposeHeaders: stringList.optional(),
  maxAge: duration().optional(),
  allowCredentials: bool.optional(),
  unmatchedPreflights: z.enum(["UNSPECIFIED", "FORWARD", "IGNORE"]).optional(),
}).transform(({ allowOrigin, ...rest }) =>
  allowOrigin && !rest.allowOrigins ? { ...rest, allowOrigins: allowOrigin.map((exact) => ({ exact })) } : rest,
);

const httpRoute = obj({
  name: str.optional(),
  match: z.array(httpMatch).optional(),
  route: z.array(routeDestination).min(1, { error: "expected at least one destination" }).optional(),
  redirect: redirect.optional(),
  directResponse: directResponse.optional(),
  delegate: rejected("delegate is not supported by dietmesh yet; put the routes in the VirtualService itself"),
  rewrite: rewrite.optional(),
  timeout: duration().optional(),
  retries: retries.optional(),
  fault: fault.optional(),
  mirror: destination.optional(),
  mirrors: z.array(obj({ destination, percentage: percent.optional() })).optional(),
  mirrorPercentage: percent.optional(),
  mirrorPercent: intPercent.optional(), // deprecated integer form of mirrorPercentage
  corsPolicy: corsPolicy.optional(), // filters/cors.ts on the gateway and outbound chains
  headers: headers.optional(),
})
  .check(rule((ctx) => {
    const v = ctx.value;
    const actions = (["route", "redirect", "directResponse", "delegate"] as const).filter((k) => v[k] !== undefined);
    if (actions.length === 0) fail(ctx, "an http route needs one of route, redirect, directResponse or delegate");
    if (actions.length > 1) fail(ctx, `only one of route, redirect, directResponse or delegate may be set, got ${actions.join(" and ")}`, [actions[1]]);
    if (v.rewrite && v.redirect) fail(ctx, "rewrite cannot be combined with redirect", ["rewrite"]);
    if (v.mirror && v.mirrors) fail(ctx, "only one of mirror or mirrors may be set", ["mirrors"]);
  }))
  .transform(({ mirrorPercent, ...rest }) =>
    mirrorPercent !== undefined && !rest.mirrorPercentage ? { ...rest, mirrorPercentage: { value: mirrorPercent } } : rest,
  );

const l4Common = {
  destinationSubnets: stringList.optional(),
  port: port.optional(),
  sourceLabels: stringMap.optional(),
  gateways: stringList.optional(),
  sourceNamespace: str.optional(),
};
const l4Route = z.array(obj({ destination, weight: int32.optional() })).optional();
const tcpRoute = obj({ match: z.array(obj({ ...l4Common, sourceSubnet: str.optional() })).optional(), route: l4Route });
const tlsRoute = obj({ match: z.array(obj({ ...l4Common, sniHosts: stringList.min(1) })).min(1), route: l4Route });

/** a VirtualService host: a name or "*.suffix", no scheme or port */
const vsHost = z.string().min(1, { error: "host must not be empty" }).check((ctx) => {
  if (/[:/\s]/.test(ctx.value)) {
    ctx.issues.push({ code: "custom", input: ctx.value, message: `expected a host name such as "reviews" or "*.example.com" (no scheme or port), got ${JSON.stringify(ctx.value)}` });
  }
});

export const virtualServiceSpec = obj({
  hosts: z.array(vsHost).default([]), // empty only in a delegate VirtualService
  gateways: stringList.optional(),
  http: z.array(httpRoute).default([]),
  tls: z.array(tlsRoute).optional(),
  tcp: z.array(tcpRoute).optional(),
  exportTo,
}).check(rule((ctx) => {
  const v = ctx.value;
  if (!v.http.length && !v.tcp?.length && !v.tls?.length) fail(ctx, "a VirtualService needs http, tcp or tls routes");
  const mesh = !v.gateways?.length || v.gateways.includes("mesh");
  const star = v.hosts.indexOf("*");
  // Istio refuses this: "*" for every sidecar would capture all outbound traffic
  if (mesh && star !== -1) fail(ctx, `host "*" is only allowed for a VirtualService bound to gateways (not the mesh)`, ["hosts", star]);
})) satisfies z.ZodType<VirtualServiceSpec>;
