// The mesh in process and the sidecar run one code path (issue 16, item 2): the same config and the
// same requests go through a real sidecar process (its outbound listener, as an app's HTTP client
// reaches it) and through mesh.fetch in this process, and every answer must be the same — status,
// response flags, tries, the headers the route sets, and what the upstream saw (which endpoint, path,
// authority, the headers the route added, the body). The requests walk the routing (matches of each
// kind, first match wins, no match, weights with a zero, subsets, redirect, rewrite, direct response,
// header operations, a subset with no endpoint) and the resilience scenarios (fault abort and delay, retries away from a refusing
// endpoint, retries exhausted on 503s, the route timeout). Each case also states what it expects, so
// two sides that were wrong in the same way still fail.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createMesh, type Mesh } from "../../runtime/library/index.ts";
import { platform } from "../../runtime/platform/index.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";
import { eventually, serviceEntry, startEcho, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const v1 = startEcho("walk-v1");
const v2 = startEcho("walk-v2");
const live = startEcho("flaky-live");
/** answers 503 to every request */
const busy = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("busy", { status: 503 }) });
/** holds every request until the suite ends: the route timeout answers first */
let release!: () => void;
const released = new Promise<void>((resolve) => (release = resolve));
const slow = platform.serve({ hostname: "127.0.0.1", port: 0, handler: async () => (await released, new Response("late")) });

/** a STATIC ServiceEntry <name>.default.svc.cluster.local on port 8080, these local ports its endpoints */
const service = (name: string, endpoints: { port: number; version?: string }[]) =>
  serviceEntry(name, `${name}.default.svc.cluster.local`, endpoints.map((e) => ({ address: `127.0.0.1:${e.port}`, ...(e.version ? { labels: { version: e.version } } : {}) })));

/** a VirtualService sending every request for name to it, with one more route field (retries, timeout) */
const oneRoute = (name: string, field: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}]
  http:
  - route: [{ destination: { host: ${name} } }]
    ${field}
`;

const CONFIG = (dead: number) => `${service("walk", [{ port: v1.server.port, version: "v1" }, { port: v2.server.port, version: "v2" }])}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: walk, namespace: default }
spec:
  host: walk
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }, { name: v3, labels: { version: v3 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: walk, namespace: default }
spec:
  hosts: [walk]
  http:
  - name: exact
    match: [{ uri: { exact: /exact } }]
    route: [{ destination: { host: walk, subset: v1 } }]
  - name: user
    match: [{ uri: { prefix: /api }, headers: { x-user: { exact: jason } } }, { uri: { prefix: /api }, withoutHeaders: { x-user: {} }, queryParams: { beta: { exact: "1" } } }]
    route: [{ destination: { host: walk, subset: v2 } }]
  - name: regex
    match: [{ uri: { regex: "/items/[0-9]+" } }]
    route: [{ destination: { host: walk, subset: v1 } }]
  - name: query
    match: [{ queryParams: { debug: { exact: "" } } }]
    route: [{ destination: { host: walk, subset: v2 } }]
  - name: post
    match: [{ method: { exact: POST } }]
    route: [{ destination: { host: walk, subset: v1 } }]
  - name: redirect
    match: [{ uri: { prefix: /old } }]
    redirect: { uri: /new, redirectCode: 302 }
  - name: rewrite
    match: [{ uri: { prefix: /v1/ } }]
    rewrite: { uri: /internal/, authority: walk-internal }
    route: [{ destination: { host: walk, subset: v2 } }]
  - name: direct
    match: [{ uri: { exact: /static } }]
    directResponse: { status: 418, body: { string: teapot } }
    headers: { response: { add: { x-resp: direct } } }
  - name: headers
    match: [{ uri: { prefix: /headers } }]
    headers: { request: { set: { x-added: route } }, response: { add: { x-resp: route }, remove: [x-echo] } }
    route: [{ destination: { host: walk, subset: v1 }, headers: { request: { add: { x-dest: v1 } } } }]
  - name: abort
    match: [{ uri: { prefix: /broken } }]
    fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
    route: [{ destination: { host: walk, subset: v1 } }]
  - name: delay
    match: [{ uri: { prefix: /delayed } }]
    fault: { delay: { fixedDelay: 0.05s, percentage: { value: 100 } } }
    route: [{ destination: { host: walk, subset: v2 } }]
  - name: empty-subset
    match: [{ uri: { prefix: /nosubset } }]
    route: [{ destination: { host: walk, subset: v3 } }]
  - name: weighted
    match: [{ uri: { prefix: /weighted } }]
    route: [{ destination: { host: walk, subset: v1 }, weight: 100 }, { destination: { host: walk, subset: v2 }, weight: 0 }]
---
${service("flaky", [{ port: dead }, { port: live.server.port }])}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: flaky, namespace: default }
spec:
  host: flaky
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
---
${oneRoute("flaky", "retries: { attempts: 3, retryOn: connect-failure }")}---
${service("busy", [{ port: busy.port }])}---
${oneRoute("busy", "retries: { attempts: 2, retryOn: 5xx }")}---
${service("slow", [{ port: slow.port }])}---
${oneRoute("slow", "timeout: 0.3s")}`;

interface Call {
  host: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** what both sides must agree on; the upstream's view only for headers a proxy sets from config */
interface Outcome {
  status: number;
  flags: string;
  attempts: string;
  location: string;
  resp: string;
  echoHeader: string;
  upstream: { name: string; method: string; path: string; authority: string; user: string; added: string; dest: string; body: string } | string;
}

async function outcome(res: Response): Promise<Outcome> {
  const text = await res.text();
  let upstream: Outcome["upstream"] = text;
  try {
    const seen = JSON.parse(text);
    const url = new URL(seen.url);
    const h = seen.headers;
    upstream = { name: seen.name, method: seen.method, path: url.pathname + url.search, authority: h.host ?? "", user: h["x-user"] ?? "", added: h["x-added"] ?? "", dest: h["x-dest"] ?? "", body: seen.body };
  } catch {
    // not an echo: the text itself (a local reply, or an upstream's own answer)
  }
  const header = (name: string) => res.headers.get(name) ?? "";
  return { status: res.status, flags: header("x-dietmesh-response-flags"), attempts: header("x-dietmesh-attempts"), location: header("location"), resp: header("x-resp"), echoHeader: header("x-echo"), upstream };
}

/** through the sidecar's outbound listener, the Host kept as an app sends it */
async function viaSidecar(sidecar: Sidecar, call: Call): Promise<Outcome> {
  const headers = new Headers(call.headers);
  headers.set("host", `${call.host}:8080`);
  return outcome(await upstreamClient.send({ url: `http://${sidecar.outbound}${call.path}`, method: call.method ?? "GET", headers, body: call.body === undefined ? null : new Response(call.body).body }));
}

/** through the mesh in this process */
async function viaLibrary(mesh: Mesh, call: Call): Promise<Outcome> {
  return outcome(await mesh.fetch(`http://${call.host}:8080${call.path}`, { method: call.method ?? "GET", headers: call.headers, body: call.body }));
}

let sidecar: Sidecar;
let mesh: Mesh;
let config: string;

test.before(async () => {
  config = await tempConfig({ "mesh.yaml": CONFIG(await closedPort()) });
  try {
    [sidecar, mesh] = await Promise.all([startSidecar(config), createMesh({ config: [config], log: () => {} })]);
  } catch (e) {
    console.error("set-up failed:", e); // uvu drops what a before hook throws
    throw e;
  }
});

test.after(async () => {
  stopAll();
  await mesh?.close();
  release();
  await Promise.all([v1, v2, live].map((s) => s.server.stop(true)));
  await Promise.all([busy.stop(true), slow.stop(true)]);
  await platform.remove(config);
});

/** runs the call through both, asserts they agree, and returns the (common) outcome */
async function both(call: Call): Promise<Outcome> {
  const [sidecarSaw, librarySaw] = [await viaSidecar(sidecar, call), await viaLibrary(mesh, call)];
  assert.equal(librarySaw, sidecarSaw, `${call.method ?? "GET"} ${call.host}${call.path}: the library and the sidecar differ`);
  return sidecarSaw;
}

const seenBy = (o: Outcome) => (typeof o.upstream === "string" ? o.upstream : o.upstream.name);

test("the routing walk: each kind of match, first match wins, no match", async () => {
  assert.is(seenBy(await both({ host: "walk", path: "/exact" })), "walk-v1");
  assert.is((await both({ host: "walk", path: "/exact/not" })).status, 404, "exact is exact");
  assert.is(seenBy(await both({ host: "walk", path: "/api/x", headers: { "x-user": "jason" } })), "walk-v2");
  assert.is(seenBy(await both({ host: "walk", path: "/api/x?beta=1" })), "walk-v2", "the second match block (OR)");
  const noMatch = await both({ host: "walk", path: "/api/x?beta=1", headers: { "x-user": "ann" } });
  assert.equal([noMatch.status, noMatch.flags], [404, "NR"], "withoutHeaders fails, the header block too");
  assert.is(seenBy(await both({ host: "walk", path: "/items/42" })), "walk-v1");
  assert.is((await both({ host: "walk", path: "/items/42x" })).status, 404, "regex is a whole match");
  assert.is(seenBy(await both({ host: "walk", path: "/anything?debug" })), "walk-v2");
  const post = await both({ host: "walk", path: "/form", method: "POST", body: "a=1" });
  assert.equal(typeof post.upstream === "object" && [post.upstream.name, post.upstream.method, post.upstream.body], ["walk-v1", "POST", "a=1"]);
  assert.is(seenBy(await both({ host: "walk", path: "/exact", method: "POST" })), "walk-v1", "the first match wins over the method rule");
});

test("redirect, rewrite, direct response and header operations", async () => {
  const redirect = await both({ host: "walk", path: "/old/page?q=1" });
  assert.is(redirect.status, 302);
  assert.match(redirect.location, /^http:\/\/walk[^/]*\/new\?q=1$/, "the whole path replaced, the query kept");
  const rewritten = await both({ host: "walk", path: "/v1/list?x=2" });
  assert.equal(typeof rewritten.upstream === "object" && [rewritten.upstream.name, rewritten.upstream.path, rewritten.upstream.authority], ["walk-v2", "/internal/list?x=2", "walk-internal"]);
  const direct = await both({ host: "walk", path: "/static" });
  assert.equal([direct.status, direct.upstream, direct.resp], [418, "teapot", "direct"]);
  const ops = await both({ host: "walk", path: "/headers", headers: { "x-added": "client" } });
  assert.equal(typeof ops.upstream === "object" && [ops.upstream.added, ops.upstream.dest], ["route", "v1"]);
  assert.equal([ops.resp, ops.echoHeader], ["route", ""], "response add and remove");
});

test("subsets and weights: a subset no endpoint is in, a zero weight never picked", async () => {
  const missing = await both({ host: "walk", path: "/nosubset" });
  assert.equal([missing.status, missing.flags], [503, "UH"]);
  for (let i = 0; i < 20; i++) assert.is(seenBy(await both({ host: "walk", path: "/weighted" })), "walk-v1");
});

test("resilience: fault abort and delay, retries away from a refusing endpoint, retries exhausted, route timeout", async () => {
  const aborted = await both({ host: "walk", path: "/broken" });
  assert.equal([aborted.status, aborted.flags, aborted.upstream], [503, "FI", "fault filter abort"]);
  const delayed = await both({ host: "walk", path: "/delayed" });
  assert.equal([delayed.status, delayed.flags, seenBy(delayed)], [200, "DI", "walk-v2"]);
  // round robin over a refusing and a live endpoint: every call answers, some after a second try
  const tries: string[] = [];
  for (let i = 0; i < 6; i++) {
    const call = { host: "flaky", path: "/r" };
    for (const saw of [await viaSidecar(sidecar, call), await viaLibrary(mesh, call)]) {
      assert.equal([saw.status, seenBy(saw)], [200, "flaky-live"]);
      tries.push(saw.attempts);
    }
  }
  assert.ok(tries.includes("2"), `some calls needed a second try on both sides: ${tries}`);
  const exhausted = await both({ host: "busy", path: "/b" });
  assert.equal([exhausted.status, exhausted.attempts, exhausted.flags, exhausted.upstream], [503, "3", "URX", "busy"]);
  const timedOut = await both({ host: "slow", path: "/s" });
  assert.equal([timedOut.status, timedOut.flags, timedOut.upstream], [504, "UT", "upstream request timeout"]);
});

test("a config file changed on disk: the sidecar and the mesh in process both follow it", async () => {
  const next = CONFIG(await closedPort()).replace("match: [{ uri: { exact: /exact } }]\n    route: [{ destination: { host: walk, subset: v1 } }]", "match: [{ uri: { exact: /exact } }]\n    route: [{ destination: { host: walk, subset: v2 } }]");
  assert.ok(next.includes("exact: /exact } }]\n    route: [{ destination: { host: walk, subset: v2"), "the edit applies");
  await platform.writeTextFile(`${config}/mesh.yaml`, next); // atomic: written beside, then renamed over
  await eventually(async () => seenBy(await viaSidecar(sidecar, { host: "walk", path: "/exact" })) === "walk-v2", 10_000, "the sidecar reloads");
  await eventually(async () => seenBy(await viaLibrary(mesh, { host: "walk", path: "/exact" })) === "walk-v2", 10_000, "the mesh in process reloads");
  assert.is(seenBy(await both({ host: "walk", path: "/exact" })), "walk-v2");
});

test.run();
