// The CORS filter: in isolation over a hand-made exchange (preflight answered, actual requests
// decorated, unmatched origins untouched, unmatchedPreflights, Envoy's "*" echoes), then through a
// real outbound chain compiled from Istio YAML in front of a fake upstream — the upstream never
// sees an answered preflight, and a fault's local reply after the filter carries the CORS headers
// as Envoy's encode path gives them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { corsFilter } from "../../runtime/filters/cors.ts";
import type { Chain, Exchange } from "../../runtime/filters/chain.ts";
import { compileCorsPolicy } from "../../runtime/routing/cors-policy.ts";
import type { CorsPolicy as CorsSpec } from "../../runtime/config/types.ts";
import type { Route } from "../../runtime/model/route-table.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import { MeshResponse } from "../../runtime/exchange/response.ts";
import type { HttpResponse } from "../../runtime/exchange/types.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { authorityPort } from "../../runtime/model/hosts.ts";
import { loadRegexEngine } from "../../runtime/routing/regex.ts";
import { outboundHandler } from "../../runtime/filters/chains.ts";
import { createMirrorSender } from "../../runtime/router/mirror.ts";
import { createClusterStates } from "../../runtime/upstream/cluster-state.ts";
import { poolOverClient } from "../../runtime/upstream/client-pool.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
import type { UpstreamClient } from "../../runtime/platform/types.ts";
import type { PipelineDeps } from "../../runtime/router/pipeline-deps.ts";
import { toWebResponse } from "../../runtime/exchange/web-request.ts";
import { memoryIO } from "../config/memory-io.ts";

// the policies below are compiled directly, not from a loaded config: load RE2 as config load does for a regex
await loadRegexEngine();

const SPEC: CorsSpec = {
  allowOrigins: [{ exact: "https://app.example" }, { prefix: "https://dev-" }, { regex: "https://[a-z]+\\.partner\\.example" }],
  allowMethods: ["GET", "POST"],
  allowHeaders: ["x-custom", "authorization"],
  exposeHeaders: ["x-trace"],
  maxAge: 86_400_500,
  allowCredentials: true,
};

function exchange(method: string, headers: Record<string, string>, spec: CorsSpec | null = SPEC): Exchange {
  const h = new Headers({ host: "api.example", ...headers });
  const route = { name: "r", matches: () => true, catchAll: true, action: {} as Route["action"], cors: compileCorsPolicy(spec ?? undefined) } as Route;
  return {
    request: { method, url: "http://api.example/x", headers: h, body: null },
    conn: { remoteAddress: "10.0.0.9", remotePort: 1234 },
    facts: { method, scheme: "http", authority: "api.example", path: "/x", query: "", headers: h, port: 80 },
    record: new RequestRecord(0),
    route,
  };
}

/** the rest of the chain: counts its calls, answers 200 "upstream" (async when asked) */
function next(options: { async?: boolean; immutable?: boolean } = {}) {
  const calls: Exchange[] = [];
  const chain: Chain = (ex) => {
    calls.push(ex);
    const response: HttpResponse = options.immutable ? Response.error() : new MeshResponse(200, "OK", new Headers({ "x-up": "1" }), null);
    return options.async ? Promise.resolve(response) : response;
  };
  return { chain, calls };
}

const PREFLIGHT = { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "x-custom" };

test("a preflight from an allowed origin is answered here: 200, Envoy's headers, nothing goes on", async () => {
  const rest = next();
  const ex = exchange("OPTIONS", PREFLIGHT);
  const response = await corsFilter(rest.chain)(ex);
  assert.is(rest.calls.length, 0);
  assert.is(response.status, 200);
  const h = response.headers;
  assert.is(h.get("access-control-allow-origin"), "https://app.example");
  assert.is(h.get("access-control-allow-credentials"), "true");
  assert.is(h.get("access-control-allow-methods"), "GET,POST");
  assert.is(h.get("access-control-allow-headers"), "x-custom,authorization");
  assert.is(h.get("access-control-max-age"), "86400", "whole seconds, as Istio writes maxAge");
  assert.is(h.get("access-control-expose-headers"), null, "expose-headers belongs on actual responses");
  assert.is(ex.record.details, "cors_response");
});

test("prefix and regex origins are allowed; others are not; regex is a whole-value RE2 match", async () => {
  for (const [origin, allowed] of [
    ["https://dev-42.example", true],
    ["https://eu.partner.example", true],
    ["https://eu.partner.example.evil", false],
    ["https://app.example.evil", false],
    ["http://app.example", false],
  ] as const) {
    const rest = next();
    const response = await corsFilter(rest.chain)(exchange("OPTIONS", { ...PREFLIGHT, origin }));
    assert.is(rest.calls.length, allowed ? 0 : 1, origin);
    assert.is(response.headers.get("access-control-allow-origin"), allowed ? origin : null, origin);
  }
});

test("an actual request from an allowed origin goes on; the answer gets allow-origin, -credentials, -expose-headers", async () => {
  for (const async of [false, true]) {
    const rest = next({ async });
    const result = corsFilter(rest.chain)(exchange("GET", { origin: "https://app.example" }));
    assert.is(result instanceof Promise, async, "a synchronous answer stays synchronous");
    const response = await result;
    assert.is(rest.calls.length, 1);
    assert.is(response.headers.get("x-up"), "1");
    assert.is(response.headers.get("access-control-allow-origin"), "https://app.example");
    assert.is(response.headers.get("access-control-allow-credentials"), "true");
    assert.is(response.headers.get("access-control-expose-headers"), "x-trace");
    assert.is(response.headers.get("access-control-allow-methods"), null, "preflight-only headers stay off");
  }
});

test("immutable response headers (a fetch Response) are copied, not thrown on", async () => {
  const rest = next({ immutable: true });
  const response = await corsFilter(rest.chain)(exchange("GET", { origin: "https://app.example" }));
  assert.is(response.headers.get("access-control-allow-origin"), "https://app.example");
});

test("an unmatched origin, no Origin, an OPTIONS without Access-Control-Request-Method, a route without corsPolicy: passed through untouched", async () => {
  const cases: [string, Exchange][] = [
    ["unmatched GET", exchange("GET", { origin: "https://evil.example" })],
    ["no origin", exchange("GET", {})],
    ["empty origin", exchange("OPTIONS", { ...PREFLIGHT, origin: "" })],
    ["no policy", exchange("OPTIONS", PREFLIGHT, null)],
  ];
  for (const [name, ex] of cases) {
    const rest = next();
    const response = await corsFilter(rest.chain)(ex);
    assert.is(rest.calls.length, 1, name);
    assert.is(response.headers.get("access-control-allow-origin"), null, name);
  }
  // a plain OPTIONS from an allowed origin is an actual request: it goes on and is decorated
  const rest = next();
  const response = await corsFilter(rest.chain)(exchange("OPTIONS", { origin: "https://app.example" }));
  assert.is(rest.calls.length, 1);
  assert.is(response.headers.get("access-control-allow-origin"), "https://app.example");
});

test("unmatchedPreflights: FORWARD (and UNSPECIFIED, and absent) sends an unmatched preflight on; IGNORE answers it 200 without allow-origin", async () => {
  for (const mode of [undefined, "UNSPECIFIED", "FORWARD"] as const) {
    const rest = next();
    await corsFilter(rest.chain)(exchange("OPTIONS", { ...PREFLIGHT, origin: "https://evil.example" }, { ...SPEC, unmatchedPreflights: mode }));
    assert.is(rest.calls.length, 1, String(mode));
  }
  const rest = next();
  const response = await corsFilter(rest.chain)(exchange("OPTIONS", { ...PREFLIGHT, origin: "https://evil.example" }, { ...SPEC, unmatchedPreflights: "IGNORE" }));
  assert.is(rest.calls.length, 0);
  assert.is(response.status, 200);
  assert.is(response.headers.get("access-control-allow-origin"), null);
  assert.is(response.headers.get("access-control-allow-methods"), "GET,POST", "Envoy still writes the policy's other headers");
});

test("allowMethods / allowHeaders \"*\" echo the preflight's request; an exact \"*\" origin allows any origin", async () => {
  const spec: CorsSpec = { allowOrigins: [{ exact: "*" }], allowMethods: ["*"], allowHeaders: ["*"] };
  const response = await corsFilter(next().chain)(exchange("OPTIONS", { ...PREFLIGHT, origin: "https://anyone.example", "access-control-request-method": "PATCH", "access-control-request-headers": "x-a, x-b" }, spec));
  assert.is(response.headers.get("access-control-allow-origin"), "https://anyone.example");
  assert.is(response.headers.get("access-control-allow-methods"), "PATCH");
  assert.is(response.headers.get("access-control-allow-headers"), "x-a, x-b");
  assert.is(response.headers.get("access-control-allow-credentials"), null);
  assert.is(response.headers.get("access-control-max-age"), null);
  // a regex that matches the string "*" is Envoy's wildcard too
  assert.ok(compileCorsPolicy({ allowOrigins: [{ regex: ".*" }] })!.allowsOrigin("https://x"));
  assert.not.ok(compileCorsPolicy({ allowOrigins: [{ regex: "https://.*" }] })!.allowsOrigin("http://x"));
  assert.not.ok(compileCorsPolicy({})!.allowsOrigin("https://x"), "no allowOrigins: nothing is allowed");
});

// ── through a real outbound chain ───────────────────────────────────────────────────────────────

const MESH = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: api, namespace: default }
spec:
  hosts: [api.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http }]
  endpoints: [{ address: 10.1.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api, namespace: default }
spec:
  hosts: [api]
  http:
  - match: [{ uri: { prefix: /broken } }]
    fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
    corsPolicy:
      allowOrigin: [https://app.example]
    route: [{ destination: { host: api } }]
  - corsPolicy:
      allowOrigins: [{ exact: https://app.example }]
      allowMethods: [PUT]
      allowHeaders: [x-custom]
      maxAge: 10m
    route: [{ destination: { host: api } }]
    retries: { attempts: 0 }
`;

async function outbound() {
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO({ "mesh.yaml": MESH }) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  const random = () => 0.5;
  const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "sidecar", namespace: "default", labels: {} }, { random, version: 1 });
  const sent: string[] = [];
  const upstream: UpstreamClient = {
    send(request) {
      sent.push(`${request.method} ${request.url}`);
      return Promise.resolve(new Response("from upstream"));
    },
  };
  const deps: PipelineDeps = {
    upstream,
    clusters: createClusterStates(() => poolOverClient(upstream), systemClock),
    clock: systemClock,
    random,
    newRequestId: () => "rid",
    mirror: createMirrorSender(upstream, random),
    log: () => {},
  };
  const handler = outboundHandler({ table: { current: table }, select: (t) => t.outbound, port: (authority) => authorityPort(authority) ?? 80, deps });
  const send = async (method: string, path: string, headers: Record<string, string>) =>
    toWebResponse(await handler(new Request(`http://api:8080${path}`, { method, headers: { host: "api:8080", ...headers } }), { remoteAddress: "10.0.0.9", remotePort: 1234 }));
  return { send, sent };
}

test("outbound chain from YAML: the preflight is answered without an upstream call, the actual request is forwarded and decorated", async () => {
  const { send, sent } = await outbound();
  const pre = await send("OPTIONS", "/items", { origin: "https://app.example", "access-control-request-method": "PUT", "access-control-request-headers": "x-custom" });
  assert.is(pre.status, 200);
  assert.is(pre.headers.get("access-control-allow-origin"), "https://app.example");
  assert.is(pre.headers.get("access-control-allow-methods"), "PUT");
  assert.is(pre.headers.get("access-control-max-age"), "600");
  assert.equal(sent, [], "no upstream call for the preflight");

  const actual = await send("PUT", "/items", { origin: "https://app.example", "x-custom": "1" });
  assert.is(actual.status, 200);
  assert.is(await actual.text(), "from upstream");
  assert.is(actual.headers.get("access-control-allow-origin"), "https://app.example");
  assert.equal(sent, ["PUT http://10.1.0.1:8080/items"]);

  const other = await send("PUT", "/items", { origin: "https://evil.example" });
  assert.is(other.status, 200);
  assert.is(other.headers.get("access-control-allow-origin"), null);
  const otherPre = await send("OPTIONS", "/items", { origin: "https://evil.example", "access-control-request-method": "PUT" });
  assert.is(otherPre.headers.get("access-control-allow-origin"), null);
  assert.is(sent.length, 3, "an unmatched preflight is forwarded (FORWARD, the default)");
});

test("outbound chain from YAML: a fault's local reply after the CORS filter carries allow-origin (deprecated allowOrigin read as exact)", async () => {
  const { send, sent } = await outbound();
  const response = await send("GET", "/broken", { origin: "https://app.example" });
  assert.is(response.status, 503);
  assert.is(response.headers.get("access-control-allow-origin"), "https://app.example");
  assert.equal(sent, []);
});

test.run();
