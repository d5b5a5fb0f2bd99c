import { test } from "uvu";
import * as assert from "uvu/assert";
import type { HTTPMatchRequest } from "../../runtime/config/types.ts";
import { compileMatchBlocks, compileMatches, resolveGatewayName, type ProxySelector } from "../../runtime/routing/match.ts";
import type { RequestFacts } from "../../runtime/routing/request-facts.ts";
import { loadRegexEngine } from "../../runtime/routing/regex.ts";

// the RE2 engine loads with a config that has a regex (config/load-engines.ts); here, once for all
await loadRegexEngine();

const sidecar: ProxySelector = {
  gateways: new Set(["mesh"]),
  defaultGateways: ["mesh"],
  labels: { app: "productpage", version: "v1" },
  namespace: "default",
  vsNamespace: "default",
};
const gateway: ProxySelector = {
  gateways: new Set(["istio-system/hello-istio-gateway"]),
  defaultGateways: ["istio-system/hello-istio-gateway"],
  labels: { istio: "ingressgateway" },
  namespace: "istio-system",
  vsNamespace: "istio-system",
};

function facts(over: Partial<Omit<RequestFacts, "headers">> & { headers?: Record<string, string> } = {}): RequestFacts {
  return {
    method: "GET",
    scheme: "http",
    authority: "hello-istio.cloud",
    path: "/",
    query: "",
    port: 80,
    ...over,
    headers: new Headers(over.headers ?? {}),
  };
}

const m = (match: HTTPMatchRequest[] | undefined, sel: ProxySelector = sidecar) => {
  const p = compileMatches(match, sel);
  assert.ok(p, "expected the route to apply to this proxy");
  return p!;
};

test("no match → always true (when the VirtualService's gateways apply)", () => {
  assert.ok(m(undefined)(facts()));
  assert.ok(m([])(facts({ path: "/anything" })));
  assert.is(compileMatches(undefined, { ...sidecar, defaultGateways: ["istio-system/hello-istio-gateway"] }), null);
});

test("blocks are OR'd, fields inside one block AND'd", () => {
  const p = m([{ uri: { exact: "/a" }, method: { exact: "GET" } }, { uri: { prefix: "/b" } }]);
  assert.ok(p(facts({ path: "/a" })));
  assert.not.ok(p(facts({ path: "/a", method: "POST" })));
  assert.ok(p(facts({ path: "/b/c", method: "POST" })));
  assert.not.ok(p(facts({ path: "/c" })));
});

test("uri exact / prefix (raw) / regex (whole) and ignoreUriCase for exact and prefix only", () => {
  assert.ok(m([{ uri: { exact: "/api/hello" } }])(facts({ path: "/api/hello" })));
  assert.not.ok(m([{ uri: { exact: "/api/hello" } }])(facts({ path: "/api/hello/x" })));
  assert.ok(m([{ uri: { prefix: "/api" } }])(facts({ path: "/apiv2" })));
  assert.ok(m([{ uri: { regex: "/users/[0-9]+" } }])(facts({ path: "/users/42" })));
  assert.not.ok(m([{ uri: { regex: "/users/[0-9]+" } }])(facts({ path: "/users/42/x" })));
  assert.ok(m([{ uri: { exact: "/API" }, ignoreUriCase: true }])(facts({ path: "/api" })));
  assert.ok(m([{ uri: { prefix: "/API" }, ignoreUriCase: true }])(facts({ path: "/apiv2" })));
  assert.not.ok(m([{ uri: { regex: "/API" }, ignoreUriCase: true }])(facts({ path: "/api" })));
  assert.not.ok(m([{ uri: { exact: "/API" } }])(facts({ path: "/api" })));
});

test("uri matches the path without the query", () => {
  assert.ok(m([{ uri: { exact: "/a" } }])(facts({ path: "/a", query: "x=1" })));
});

test("scheme, method, authority", () => {
  const p = m([{ scheme: { exact: "https" }, method: { regex: "GET|HEAD" }, authority: { prefix: "api." } }]);
  assert.ok(p(facts({ scheme: "https", method: "HEAD", authority: "api.example.com" })));
  assert.not.ok(p(facts({ scheme: "http", method: "HEAD", authority: "api.example.com" })));
  assert.not.ok(p(facts({ scheme: "https", method: "POST", authority: "api.example.com" })));
  assert.not.ok(p(facts({ scheme: "https", method: "GET", authority: "www.example.com" })));
});

test("seed header routing: user-agent regex .*Chrome.*", () => {
  const p = m([{ headers: { "user-agent": { regex: ".*Chrome.*" } } }]);
  assert.ok(p(facts({ headers: { "user-agent": "Mozilla/5.0 AppleWebKit Chrome/120.0 Safari/537.36" } })));
  assert.not.ok(p(facts({ headers: { "user-agent": "Mozilla/5.0 Firefox/121.0" } })));
  assert.not.ok(p(facts()));
});

test("seed cookie routing: ^(.*?;)?(user=leander)(;.*)?$", () => {
  const p = m([{ headers: { cookie: { regex: "^(.*?;)?(user=leander)(;.*)?$" } } }]);
  assert.ok(p(facts({ headers: { cookie: "session=1;user=leander" } })));
  assert.ok(p(facts({ headers: { cookie: "user=leander" } })));
  assert.not.ok(p(facts({ headers: { cookie: "user=mario" } })));
  assert.not.ok(p(facts()));
});

test("header keys are case-insensitive, values case-sensitive; {} means present", () => {
  const p = m([{ headers: { "X-Debug": { exact: "On" } } }]);
  assert.ok(p(facts({ headers: { "x-debug": "On" } })));
  assert.not.ok(p(facts({ headers: { "x-debug": "on" } })));
  const present = m([{ headers: { "x-canary": {} } }]);
  assert.ok(present(facts({ headers: { "x-canary": "" } })));
  assert.ok(present(facts({ headers: { "x-canary": "anything" } })));
  assert.not.ok(present(facts()));
});

test("multi-valued headers match on the comma-joined value", () => {
  const h = new Headers();
  h.append("x-tag", "a");
  h.append("x-tag", "b");
  const f = { ...facts(), headers: h };
  assert.ok(m([{ headers: { "x-tag": { exact: "a, b" } } }])(f));
  assert.not.ok(m([{ headers: { "x-tag": { exact: "a" } } }])(f));
});

test("uri/scheme/method/authority as header keys are ignored", () => {
  const p = m([{ headers: { uri: { exact: "/nope" }, method: { exact: "NOPE" }, scheme: { exact: "x" }, authority: { exact: "y" } } }]);
  assert.ok(p(facts({ path: "/a" })));
});

test("withoutHeaders inverts; an absent header satisfies it", () => {
  const p = m([{ withoutHeaders: { "x-internal": { exact: "true" } } }]);
  assert.ok(p(facts()));
  assert.ok(p(facts({ headers: { "x-internal": "false" } })));
  assert.not.ok(p(facts({ headers: { "x-internal": "true" } })));
  const absent = m([{ withoutHeaders: { "x-internal": {} } }]);
  assert.ok(absent(facts()));
  assert.not.ok(absent(facts({ headers: { "x-internal": "" } })));
});

test("queryParams: exact \"\" matches ?key, regex is a full match, {} means present", () => {
  const flag = m([{ queryParams: { debug: { exact: "" } } }]);
  assert.ok(flag(facts({ query: "debug" })));
  assert.ok(flag(facts({ query: "a=1&debug=" })));
  assert.not.ok(flag(facts({ query: "debug=1" })));
  assert.not.ok(flag(facts({ query: "" })));
  const re = m([{ queryParams: { v: { regex: "[0-9]+" } } }]);
  assert.ok(re(facts({ query: "v=12" })));
  assert.not.ok(re(facts({ query: "v=12a" })));
  assert.not.ok(re(facts({ query: "x=12" })));
  assert.ok(m([{ queryParams: { v: {} } }])(facts({ query: "v=anything" })));
});

test("port matches the destination port", () => {
  const p = m([{ port: 8080 }]);
  assert.ok(p(facts({ port: 8080 })));
  assert.not.ok(p(facts({ port: 80 })));
});

test("gateways: omitted means the VirtualService's list; a block's own list overrides it", () => {
  assert.ok(compileMatches([{ uri: { prefix: "/" } }], gateway));
  assert.is(compileMatches([{ uri: { prefix: "/" }, gateways: ["mesh"] }], gateway), null);
  // a block naming the gateway applies at the gateway even if the VS lists only mesh
  const sel = { ...gateway, defaultGateways: ["mesh"], vsNamespace: "istio-system" };
  assert.ok(compileMatches([{ gateways: ["hello-istio-gateway"] }], sel));
  // blocks that do not apply are dropped, the others kept
  const p = compileMatches([{ uri: { exact: "/mesh-only" }, gateways: ["mesh"] }, { uri: { exact: "/gw" } }], gateway)!;
  assert.not.ok(p(facts({ path: "/mesh-only" })));
  assert.ok(p(facts({ path: "/gw" })));
});

test("sourceLabels and sourceNamespace select which workloads a block applies to", () => {
  assert.ok(compileMatches([{ sourceLabels: { app: "productpage" } }], sidecar));
  assert.is(compileMatches([{ sourceLabels: { app: "productpage", version: "v2" } }], sidecar), null);
  assert.ok(compileMatches([{ sourceNamespace: "default" }], sidecar));
  assert.is(compileMatches([{ sourceNamespace: "other" }], sidecar), null);
  assert.is(compileMatches([{ sourceLabels: { app: "productpage" }, gateways: ["mesh"] }], { ...sidecar, labels: {} }), null);
});

test("compileMatchBlocks says which kept block matched", () => {
  const c = compileMatchBlocks([{ uri: { exact: "/x" }, gateways: ["mesh"] }, { uri: { prefix: "/a" } }, { uri: { prefix: "/b" } }], gateway)!;
  assert.is(c.blocks.length, 2);
  assert.is(c.first(facts({ path: "/b/1" })), 1);
  assert.is(c.first(facts({ path: "/a" })), 0);
  assert.is(c.first(facts({ path: "/x" })), -1);
});

test("resolveGatewayName handles Istio's reference forms", () => {
  assert.is(resolveGatewayName("mesh", "default"), "mesh");
  assert.is(resolveGatewayName("my-gw", "default"), "default/my-gw");
  assert.is(resolveGatewayName("./my-gw", "default"), "default/my-gw");
  assert.is(resolveGatewayName("istio-system/gw", "default"), "istio-system/gw");
  assert.is(resolveGatewayName("gw.istio-system.svc.cluster.local", "default"), "istio-system/gw");
});

test.run();
