// Every VirtualService routing rule of REFERENCE.md walked through the whole pipeline, in process:
// YAML text → loadConfig → static registry snapshot → compile → the routed filter chain → a fake upstream
// that records what it was sent and names the endpoint that answered.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile, type ProxyIdentity } from "../../runtime/model/compile.ts";
import { authorityPort } from "../../runtime/model/hosts.ts";
import { outboundHandler } from "../../runtime/filters/chains.ts";
import { createMirrorSender } from "../../runtime/router/mirror.ts";
import { createClusterStates } from "../../runtime/upstream/cluster-state.ts";
import { poolOverClient } from "../../runtime/upstream/client-pool.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import type { PipelineDeps } from "../../runtime/router/pipeline-deps.ts";
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from "../../runtime/platform/types.ts";
import { memoryIO } from "../config/memory-io.ts";
import { toWebResponse } from "../../runtime/exchange/web-request.ts";

/** mulberry32: the same sequence on every run and runtime */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent { url: string; method: string; headers: Headers; endpoint: string }

/** 200 from every endpoint, naming it; 10.9.9.9 answers only after 2 s unless the signal aborts first */
function fakeUpstream(sent: Sent[]): UpstreamClient {
  return {
    send(req: UpstreamRequest) {
      const endpoint = new URL(req.url).host;
      sent.push({ url: req.url, method: req.method, headers: req.headers, endpoint });
      const reply = () => new Response("ok", { headers: { "x-endpoint": endpoint, "x-upstream-secret": "s", "x-upstream": "u" } });
      if (!endpoint.startsWith("10.9.9.9")) return Promise.resolve(reply());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(reply()), 2000);
        req.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new UpstreamError("aborted", "aborted"));
        });
      });
    },
  };
}

type Proxy = Partial<ProxyIdentity> & { gatewayPort?: number };

/** one proxy built from YAML; send() answers like the listener would */
async function mesh(yaml: string, proxy: Proxy = {}) {
  const files = { "mesh.yaml": yaml };
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO(files) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  const identity: ProxyIdentity = { kind: proxy.kind ?? "sidecar", namespace: proxy.namespace ?? "default", labels: proxy.labels ?? {} };
  const random = seeded(7);
  const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), identity, { random, version: 1 });
  const sent: Sent[] = [];
  const upstream = fakeUpstream(sent);
  const deps: PipelineDeps = {
    upstream,
    clusters: createClusterStates(() => poolOverClient(upstream), systemClock),
    clock: systemClock,
    random,
    newRequestId: () => "rid",
    mirror: createMirrorSender(upstream, random),
    log: () => {},
  };
  const gatewayPort = proxy.gatewayPort ?? 80;
  const handler = outboundHandler({
    table: { current: table },
    select: identity.kind === "sidecar" ? (t) => t.outbound : (t) => t.gatewayPorts.get(gatewayPort),
    port: identity.kind === "sidecar" ? (authority) => authorityPort(authority) ?? 80 : gatewayPort,
    deps,
  });
  // a server hands the handler a request with the Host header the client sent; a test's Request
  // names the host in its URL, so it is copied into Host unless the case sets one itself
  const send = async (url: string, init: { headers?: Record<string, string>; method?: string } = {}) =>
    toWebResponse(await handler(new Request(url, { ...init, headers: { host: new URL(url).host, ...init.headers } }), { remoteAddress: "10.0.0.9", remotePort: 1234 }));
  /** the directResponse body that answered, or "<status> <flags>" for a local reply */
  const which = async (url: string, init: { headers?: Record<string, string>; method?: string } = {}) => {
    const r = await send(url, init);
    return r.headers.has(FLAGS_HEADER) ? `${r.status} ${r.headers.get(FLAGS_HEADER)}` : await r.text();
  };
  return { send, which, sent };
}

const entry = (name: string, host: string, endpoints: string, namespace = "default") => `---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http }]
  endpoints: [${endpoints}]
`;
const vs = (name: string, hosts: string, http: string, extra = "", namespace = "default") => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${hosts}]
${extra}  http:
${http}`;
const reply = (body: string) => `directResponse: { status: 200, body: { string: ${body} } }`;

// reviews has three versions; DestinationRule subsets pick them by label
const REGISTRY = entry("reviews", "reviews.default.svc.cluster.local",
  "{ address: 10.1.0.1, labels: { version: v1 } }, { address: 10.1.0.2, labels: { version: v2 } }, { address: 10.1.0.3, labels: { version: v3 } }") +
  entry("ratings", "ratings.default.svc.cluster.local", "{ address: 10.2.0.1 }") +
  entry("shadow", "shadow.default.svc.cluster.local", "{ address: 10.3.0.1 }") +
  entry("slow", "slow.default.svc.cluster.local", "{ address: 10.9.9.9 }") + `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec:
  host: reviews
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
  - { name: v3, labels: { version: v3 } }
`;

// ── matching ────────────────────────────────────────────────────────────────────────────────────

const MATCHING = vs("matching", "m.example.com, api.m.example.com", `
  - { match: [{ uri: { prefix: /order } }], ${reply("first")} }
  - { match: [{ uri: { prefix: /order/late } }], ${reply("second")} }
  - { match: [{ uri: { prefix: /or }, headers: { x-a: { exact: "1" } } }, { method: { exact: DELETE } }], ${reply("or-and")} }
  - { match: [{ uri: { exact: /exact } }], ${reply("uri-exact")} }
  - { match: [{ uri: { prefix: /api } }], ${reply("uri-prefix")} }
  - { match: [{ uri: { regex: "/re/[0-9]+" } }], ${reply("uri-regex")} }
  - { match: [{ uri: { exact: /CaSe }, ignoreUriCase: true }], ${reply("case-exact")} }
  - { match: [{ uri: { prefix: /Fold }, ignoreUriCase: true }], ${reply("case-prefix")} }
  - { match: [{ uri: { regex: "/Rx[0-9]" }, ignoreUriCase: true }], ${reply("case-regex")} }
  - { match: [{ uri: { exact: /h }, headers: { x-exact: { exact: Yes } } }], ${reply("h-exact")} }
  - { match: [{ uri: { exact: /h }, headers: { x-prefix: { prefix: ab } } }], ${reply("h-prefix")} }
  - { match: [{ uri: { exact: /h }, headers: { x-regex: { regex: "v[0-9]" } } }], ${reply("h-regex")} }
  - { match: [{ uri: { exact: /h }, headers: { x-present: {} } }], ${reply("h-present")} }
  - { match: [{ uri: { exact: /w1 }, withoutHeaders: { x-block: {} } }], ${reply("w-absent")} }
  - { match: [{ uri: { exact: /w2 }, withoutHeaders: { x-env: { exact: prod } } }], ${reply("w-not-prod")} }
  - { match: [{ uri: { exact: /q }, queryParams: { debug: { exact: "" } } }], ${reply("q-flag")} }
  - { match: [{ uri: { exact: /q }, queryParams: { id: { regex: "[0-9]+" } } }], ${reply("q-id")} }
  - { match: [{ uri: { exact: /verb }, method: { exact: POST } }], ${reply("method-post")} }
  - { match: [{ uri: { exact: /who }, authority: { prefix: api. } }], ${reply("authority-api")} }
  - { match: [{ uri: { exact: /port }, port: 9090 }], ${reply("port-9090")} }
  - { match: [{ uri: { exact: /src }, sourceLabels: { app: productpage } }], ${reply("source-productpage")} }
`);

const M = "http://m.example.com";

test("http routes are tried in order; the first match wins", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/order/late`), "first");
  assert.is(await which(`${M}/order`), "first");
});

test("match blocks are OR'd; the fields in one block AND'd", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/or`, { headers: { "x-a": "1" } }), "or-and");
  assert.is(await which(`${M}/or`, { headers: { "x-a": "2" } }), "404 NR");
  assert.is(await which(`${M}/or`), "404 NR");
  assert.is(await which(`${M}/elsewhere`, { method: "DELETE" }), "or-and");
  assert.is(await which(`${M}/elsewhere`, { method: "PUT" }), "404 NR");
});

test("uri: exact, raw prefix, whole-value regex; ignoreUriCase for exact and prefix only", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/exact`), "uri-exact");
  assert.is(await which(`${M}/exact/more`), "404 NR");
  assert.is(await which(`${M}/api`), "uri-prefix");
  assert.is(await which(`${M}/apiv2`), "uri-prefix");
  assert.is(await which(`${M}/ap`), "404 NR");
  assert.is(await which(`${M}/re/42`), "uri-regex");
  assert.is(await which(`${M}/re/42x`), "404 NR");
  assert.is(await which(`${M}/x/re/42`), "404 NR");
  assert.is(await which(`${M}/case`), "case-exact");
  assert.is(await which(`${M}/CASE`), "case-exact");
  assert.is(await which(`${M}/fOLDER`), "case-prefix");
  assert.is(await which(`${M}/Rx1`), "case-regex");
  assert.is(await which(`${M}/rx1`), "404 NR");
});

test("headers: exact is case-sensitive, prefix, whole-value regex, {} means present", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/h`, { headers: { "x-exact": "Yes" } }), "h-exact");
  assert.is(await which(`${M}/h`, { headers: { "x-exact": "yes" } }), "404 NR");
  assert.is(await which(`${M}/h`, { headers: { "x-prefix": "abc" } }), "h-prefix");
  assert.is(await which(`${M}/h`, { headers: { "x-prefix": "xab" } }), "404 NR");
  assert.is(await which(`${M}/h`, { headers: { "x-regex": "v7" } }), "h-regex");
  assert.is(await which(`${M}/h`, { headers: { "x-regex": "v77" } }), "404 NR");
  assert.is(await which(`${M}/h`, { headers: { "x-present": "" } }), "h-present");
  assert.is(await which(`${M}/h`), "404 NR");
});

test("withoutHeaders: inverted, and an absent header satisfies it", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/w1`), "w-absent");
  assert.is(await which(`${M}/w1`, { headers: { "x-block": "1" } }), "404 NR");
  assert.is(await which(`${M}/w2`), "w-not-prod");
  assert.is(await which(`${M}/w2`, { headers: { "x-env": "dev" } }), "w-not-prod");
  assert.is(await which(`${M}/w2`, { headers: { "x-env": "prod" } }), "404 NR");
});

test("queryParams: exact \"\" matches ?key; regex is a full match", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/q?debug`), "q-flag");
  assert.is(await which(`${M}/q?a=1&debug=`), "q-flag");
  assert.is(await which(`${M}/q?debug=1`), "404 NR");
  assert.is(await which(`${M}/q?id=42`), "q-id");
  assert.is(await which(`${M}/q?id=42a`), "404 NR");
  assert.is(await which(`${M}/q`), "404 NR");
});

test("method, authority and port", async () => {
  const { which } = await mesh(MATCHING);
  assert.is(await which(`${M}/verb`, { method: "POST" }), "method-post");
  assert.is(await which(`${M}/verb`), "404 NR");
  assert.is(await which("http://api.m.example.com/who"), "authority-api");
  assert.is(await which(`${M}/who`), "404 NR");
  assert.is(await which("http://m.example.com:9090/port"), "port-9090");
  assert.is(await which("http://m.example.com:9091/port"), "404 NR");
  assert.is(await which(`${M}/port`), "404 NR");
});

test("sourceLabels select the workloads a rule applies to", async () => {
  const productpage = await mesh(MATCHING, { labels: { app: "productpage", version: "v1" } });
  assert.is(await productpage.which(`${M}/src`), "source-productpage");
  const other = await mesh(MATCHING, { labels: { app: "details" } });
  assert.is(await other.which(`${M}/src`), "404 NR");
});

test("no route matches, or no virtual host: 404 with flag NR", async () => {
  const { send, sent } = await mesh(MATCHING + REGISTRY);
  for (const url of [`${M}/nothing-here`, "http://unknown.example.com/"]) {
    const r = await send(url);
    assert.is(r.status, 404, url);
    assert.is(r.headers.get(FLAGS_HEADER), "NR");
  }
  assert.is(sent.length, 0);
});

// ── gateways ────────────────────────────────────────────────────────────────────────────────────

const GATEWAYS = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: edge }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
` + vs("inner", "inner.example.com", `  - ${reply("inner")}\n`) +
  vs("outer", "outer.example.com", `  - ${reply("outer")}\n`, "  gateways: [edge]\n") +
  vs("both", "both.example.com", `
  - { match: [{ gateways: [mesh] }], ${reply("both-mesh")} }
  - { match: [{ gateways: [edge], uri: { prefix: /only } }], ${reply("both-edge")} }
`, "  gateways: [edge, mesh]\n");

test("gateways: omitted means mesh; a Gateway name binds the gateway; a match's gateways override", async () => {
  const sidecar = await mesh(GATEWAYS);
  const gateway = await mesh(GATEWAYS, { kind: "gateway", labels: { istio: "ingressgateway" } });
  assert.is(await sidecar.which("http://inner.example.com/"), "inner");
  assert.is(await gateway.which("http://inner.example.com/"), "404 NR");
  assert.is(await sidecar.which("http://outer.example.com/"), "404 NR");
  assert.is(await gateway.which("http://outer.example.com/"), "outer");
  assert.is(await sidecar.which("http://both.example.com/only"), "both-mesh");
  assert.is(await gateway.which("http://both.example.com/only"), "both-edge");
  assert.is(await gateway.which("http://both.example.com/"), "404 NR");
  // a gateway whose labels no Gateway selects serves nothing
  const stranger = await mesh(GATEWAYS, { kind: "gateway", labels: { istio: "egressgateway" } });
  assert.is(await stranger.which("http://outer.example.com/"), "404 NR");
});

// ── destinations ────────────────────────────────────────────────────────────────────────────────

const ROUTING = REGISTRY + vs("reviews", "reviews", `
  - match: [{ uri: { prefix: /weighted } }]
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 75 }
    - { destination: { host: reviews, subset: v2 }, weight: 25 }
    - { destination: { host: reviews, subset: v3 }, weight: 0 }
  - match: [{ uri: { prefix: /v3 } }]
    route: [{ destination: { host: reviews, subset: v3 } }]
  - match: [{ uri: { prefix: /nosuch } }]
    route: [{ destination: { host: reviews, subset: v9 } }]
  - match: [{ uri: { prefix: /ratings } }]
    route: [{ destination: { host: ratings.default.svc.cluster.local } }]
`);

test("weights: share = weight / sum; a zero-weight destination is never picked", async () => {
  const { send, sent } = await mesh(ROUTING);
  for (let i = 0; i < 4000; i++) assert.is((await send("http://reviews:8080/weighted")).status, 200);
  const count = (e: string) => sent.filter((s) => s.endpoint === e).length;
  assert.is(sent.length, 4000);
  assert.ok(Math.abs(count("10.1.0.1:8080") - 3000) < 150, `v1 got ${count("10.1.0.1:8080")}`);
  assert.ok(Math.abs(count("10.1.0.2:8080") - 1000) < 150, `v2 got ${count("10.1.0.2:8080")}`);
  assert.is(count("10.1.0.3:8080"), 0);
});

test("subsets pick endpoints by label; a subset no rule defines gets 503 UH", async () => {
  const { send, sent } = await mesh(ROUTING);
  for (let i = 0; i < 20; i++) assert.is((await send("http://reviews:8080/v3")).headers.get("x-endpoint"), "10.1.0.3:8080");
  const r = await send("http://reviews:8080/nosuch");
  assert.is(r.status, 503);
  assert.is(r.headers.get(FLAGS_HEADER), "UH");
  assert.is(await r.text(), "no healthy upstream");
  assert.is(sent.length, 20);
  assert.is((await send("http://reviews:8080/ratings")).headers.get("x-endpoint"), "10.2.0.1:8080");
});

test("host names: short names expand against the resource's namespace; ServiceEntry hosts are literal", async () => {
  const yaml = entry("reviews-shop", "reviews.shop.svc.cluster.local", "{ address: 10.5.0.1 }", "shop") +
    entry("reviews", "reviews.default.svc.cluster.local", "{ address: 10.1.0.1 }") +
    entry("legacy", "legacy", "{ address: 10.6.0.1 }") +
    vs("shop-front", "front", "  - route: [{ destination: { host: reviews } }]\n", "", "shop") +
    vs("to-legacy", "old.example.com", "  - route: [{ destination: { host: legacy } }]\n");
  const inDefault = await mesh(yaml);
  // the shop VirtualService's "front" and "reviews" mean front.shop.svc.cluster.local and reviews.shop…
  assert.is((await inDefault.send("http://front.shop.svc.cluster.local/")).headers.get("x-endpoint"), "10.5.0.1:8080");
  assert.is(await inDefault.which("http://front.default.svc.cluster.local/"), "404 NR");
  // Kubernetes names: the short form only from the service's own namespace
  assert.is((await inDefault.send("http://reviews:8080/")).headers.get("x-endpoint"), "10.1.0.1:8080");
  assert.is((await inDefault.send("http://reviews.shop.svc:8080/")).headers.get("x-endpoint"), "10.5.0.1:8080");
  const inShop = await mesh(yaml, { namespace: "shop" });
  assert.is((await inShop.send("http://reviews:8080/")).headers.get("x-endpoint"), "10.5.0.1:8080");
  // "legacy" is a ServiceEntry host as written: reachable by that name, never expanded…
  assert.is((await inDefault.send("http://legacy:8080/")).headers.get("x-endpoint"), "10.6.0.1:8080");
  assert.is(await inDefault.which("http://legacy.default.svc.cluster.local/"), "404 NR");
  // …while a VirtualService destination "legacy" expands to legacy.default.svc.cluster.local
  assert.is(await inDefault.which("http://old.example.com/"), "503 UH");
});

// ── actions ─────────────────────────────────────────────────────────────────────────────────────

const ACTIONS = REGISTRY + vs("actions", "actions.example.com", `
  - match: [{ uri: { prefix: /moved } }]
    redirect: { uri: /new-home }
  - match: [{ uri: { prefix: /found } }]
    redirect: { uri: /there, authority: elsewhere.example.com, redirectCode: 302 }
  - match: [{ uri: { prefix: /api } }]
    rewrite: { uri: /v2 }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { prefix: /host } }]
    rewrite: { authority: ratings.internal }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { regex: "/users/[0-9]+/posts/.*" } }]
    rewrite: { uriRegexRewrite: { match: "^/users/([0-9]+)/posts/(.*)$", rewrite: '/posts/\\2/by/\\1' } }
    route: [{ destination: { host: ratings } }]
  - match: [{ uri: { exact: /teapot } }]
    directResponse: { status: 418, body: { string: short and stout } }
    headers: { response: { set: { x-kind: teapot } } }
  - match: [{ uri: { prefix: /headers } }]
    headers:
      request: { set: { x-route: r, x-both: route }, add: { x-added: a }, remove: [x-client-secret] }
      response: { set: { x-resp-route: r }, add: { x-upstream: route-added }, remove: [x-upstream-secret] }
    route:
    - destination: { host: ratings }
      headers:
        request: { set: { x-both: destination, x-dest: d } }
        response: { set: { x-resp-dest: d } }
  - match: [{ uri: { prefix: /slow } }]
    timeout: 50ms
    route: [{ destination: { host: slow } }]
  - match: [{ uri: { prefix: /mirror-all } }]
    route: [{ destination: { host: ratings } }]
    mirror: { host: shadow }
  - match: [{ uri: { prefix: /mirror-half } }]
    route: [{ destination: { host: ratings } }]
    mirror: { host: shadow }
    mirrorPercentage: { value: 50 }
  - match: [{ uri: { prefix: /mirror-none } }]
    route: [{ destination: { host: ratings } }]
    mirror: { host: shadow }
    mirrorPercentage: { value: 0 }
`);
const A = "http://actions.example.com";

test("redirect: 301 by default, Location with the new path (query kept); code and authority as given", async () => {
  const { send, sent } = await mesh(ACTIONS);
  const r = await send(`${A}/moved/deep?x=1`);
  assert.is(r.status, 301);
  assert.is(r.headers.get("location"), "http://actions.example.com/new-home?x=1");
  const f = await send(`${A}/found`);
  assert.is(f.status, 302);
  assert.is(f.headers.get("location"), "http://elsewhere.example.com/there");
  assert.is(sent.length, 0);
});

test("rewrite: uri replaces only the matched prefix; authority; uriRegexRewrite with groups", async () => {
  const { send, sent } = await mesh(ACTIONS);
  await send(`${A}/api/items?page=2`);
  await send(`${A}/apiv2`);
  await send(`${A}/host/x`);
  await send(`${A}/users/42/posts/hello?s=1`);
  assert.equal(sent.map((s) => s.url), [
    "http://10.2.0.1:8080/v2/items?page=2",
    "http://10.2.0.1:8080/v2v2",
    "http://10.2.0.1:8080/host/x",
    "http://10.2.0.1:8080/posts/hello/by/42?s=1",
  ]);
  assert.equal(sent.map((s) => s.headers.get("host")), ["actions.example.com", "actions.example.com", "ratings.internal", "actions.example.com"]);
});

test("directResponse: status and body without an upstream; route response headers apply", async () => {
  const { send, sent } = await mesh(ACTIONS);
  const r = await send(`${A}/teapot`);
  assert.is(r.status, 418);
  assert.is(await r.text(), "short and stout");
  assert.is(r.headers.get("x-kind"), "teapot");
  assert.is(sent.length, 0);
});

test("headers: set/add/remove on request and response, route then destination level", async () => {
  const { send, sent } = await mesh(ACTIONS);
  const r = await send(`${A}/headers`, { headers: { "x-client-secret": "pw", "x-added": "client" } });
  const h = sent[0].headers;
  assert.is(h.get("x-route"), "r");
  assert.is(h.get("x-dest"), "d");
  assert.is(h.get("x-both"), "destination");
  assert.is(h.get("x-added"), "client, a");
  assert.is(h.get("x-client-secret"), null);
  assert.is(r.headers.get("x-resp-route"), "r");
  assert.is(r.headers.get("x-resp-dest"), "d");
  assert.is(r.headers.get("x-upstream"), "u, route-added");
  assert.is(r.headers.get("x-upstream-secret"), null);
  assert.is(r.headers.get("x-endpoint"), "10.2.0.1:8080");
});

test("route timeout: the upstream call is aborted and the client gets 504 UT", async () => {
  const { send, sent } = await mesh(ACTIONS);
  const started = Date.now();
  const r = await send(`${A}/slow`);
  assert.is(r.status, 504);
  assert.is(r.headers.get(FLAGS_HEADER), "UT");
  assert.is(await r.text(), "upstream request timeout");
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  assert.is(sent[0].endpoint, "10.9.9.9:8080");
});

test("mirror: a copy to <authority>-shadow; mirrorPercentage absent = 100, 50 ≈ half, 0 never", async () => {
  const { send, sent } = await mesh(ACTIONS);
  const r = await send("http://actions.example.com:8080/mirror-all?a=1", { headers: { "x-trace": "t" } });
  assert.is(r.headers.get("x-endpoint"), "10.2.0.1:8080");
  assert.is(sent.length, 2);
  const shadow = sent.find((s) => s.endpoint === "10.3.0.1:8080")!;
  assert.ok(shadow, "the mirror was sent");
  assert.is(shadow.url, "http://10.3.0.1:8080/mirror-all?a=1");
  assert.is(shadow.headers.get("host"), "actions.example.com-shadow:8080");
  assert.is(shadow.headers.get("x-trace"), "t");
  assert.is(sent.find((s) => s.endpoint === "10.2.0.1:8080")!.headers.get("host"), "actions.example.com:8080");

  const shadows = () => sent.filter((s) => s.endpoint === "10.3.0.1:8080").length;
  sent.length = 0;
  for (let i = 0; i < 1000; i++) await send(`${A}/mirror-half`);
  assert.ok(Math.abs(shadows() - 500) < 80, `mirrored ${shadows()} of 1000`);
  sent.length = 0;
  for (let i = 0; i < 500; i++) await send(`${A}/mirror-none`);
  assert.is(sent.length, 500);
  assert.is(shadows(), 0);
});

test.run();
