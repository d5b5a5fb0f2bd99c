// The filter chain, in process: compileChain's contract (order, the first answer wins, only async
// filters are awaited, the terminal last), and "a new policy is one file plus one chain entry" —
// filters that live only in this file, added to a real outbound chain through its `filters` option,
// in front of a fake upstream. Also the edge's part: an upstream's flags header is not this hop's,
// and a connect timeout is UF on the outbound and the inbound chain alike.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { snapshotFromConfig } from "../../adapters/static/from-config.ts";
import { compile } from "../../runtime/model/compile.ts";
import { authorityPort } from "../../runtime/model/hosts.ts";
import { compileChain, type Exchange, type Filter } from "../../runtime/filters/chain.ts";
import { inboundHandler, outboundHandler } from "../../runtime/filters/chains.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import { createMirrorSender } from "../../runtime/router/mirror.ts";
import { createClusterStates } from "../../runtime/upstream/cluster-state.ts";
import { poolOverClient } from "../../runtime/upstream/client-pool.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import type { Observer } from "../../runtime/telemetry/observe.ts";
import type { PipelineDeps } from "../../runtime/router/pipeline-deps.ts";
import { systemClock } from "../../runtime/lib/clock.ts";
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from "../../runtime/platform/types.ts";
import type { DataHandler } from "../../runtime/exchange/types.ts";
import { memoryIO } from "../config/memory-io.ts";
import { toWebResponse } from "../../runtime/exchange/web-request.ts";

// ── compileChain ────────────────────────────────────────────────────────────────────────────────

function exchange(): Exchange {
  const headers = new Headers({ host: "a.example" });
  return {
    request: { method: "GET", url: "http://a.example/", headers, body: null },
    conn: { remoteAddress: "10.0.0.9", remotePort: 1234 },
    facts: { method: "GET", scheme: "http", authority: "a.example", path: "/", query: "", headers, port: 80 },
    record: new RequestRecord(0),
  };
}

/** a filter that notes its name and lets the request go on */
const passing = (seen: string[], name: string): Filter => () => {
  seen.push(name);
  return undefined;
};

test("filters run in order, each on the same exchange, and the terminal runs last", async () => {
  const seen: string[] = [];
  const exchanges: Exchange[] = [];
  const note = (name: string): Filter => (ex) => {
    exchanges.push(ex);
    return passing(seen, name)(ex);
  };
  const chain = compileChain([note("a"), note("b"), note("c")], (ex) => {
    exchanges.push(ex);
    seen.push("terminal");
    return new Response("end");
  });
  const ex = exchange();
  const response = toWebResponse(await chain(ex));
  assert.is(await response.text(), "end");
  assert.equal(seen, ["a", "b", "c", "terminal"]);
  assert.ok(exchanges.length === 4 && exchanges.every((e) => e === ex), "every step sees the one exchange");
});

test("the first filter that answers ends the chain: later filters and the terminal do not run", async () => {
  const seen: string[] = [];
  const answer = new Response("denied", { status: 403 });
  const chain = compileChain([passing(seen, "a"), () => (seen.push("b"), answer), passing(seen, "c")], () => {
    seen.push("terminal");
    return new Response("end");
  });
  const response = chain(exchange());
  assert.is(response, answer, "the filter's own Response, returned as it is");
  assert.equal(seen, ["a", "b"]);
});

test("with only synchronous filters and terminal, the chain answers synchronously (nothing awaited)", () => {
  const seen: string[] = [];
  const chain = compileChain([passing(seen, "a"), passing(seen, "b")], () => new Response("sync"));
  const result = chain(exchange());
  assert.ok(result instanceof Response, "a Response, not a Promise");
  assert.equal(seen, ["a", "b"]);
  const empty = compileChain([], () => new Response("only terminal"));
  assert.ok(empty(exchange()) instanceof Response);
});

test("an async filter is awaited: the filters after it wait for it, those before it do not", async () => {
  const seen: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slow: Filter = async () => {
    seen.push("slow-start");
    await gate;
    seen.push("slow-end");
    return undefined;
  };
  const chain = compileChain([passing(seen, "a"), slow, passing(seen, "c")], () => {
    seen.push("terminal");
    return new Response("end");
  });
  const result = chain(exchange());
  assert.ok(result instanceof Promise, "an async filter makes the answer a Promise");
  assert.equal(seen, ["a", "slow-start"], "the filter after the async one has not run yet");
  release();
  const response = toWebResponse(await result);
  assert.is(await response.text(), "end");
  assert.equal(seen, ["a", "slow-start", "slow-end", "c", "terminal"]);
});

test("an async filter that answers ends the chain; a sync answer after an async filter does too", async () => {
  const seen: string[] = [];
  const chain = compileChain([passing(seen, "a"), () => Promise.resolve(new Response("later", { status: 429 })), passing(seen, "c")], () => {
    seen.push("terminal");
    return new Response("end");
  });
  const response = await chain(exchange());
  assert.is(response.status, 429);
  assert.equal(seen, ["a"]);

  const seen2: string[] = [];
  const chain2 = compileChain([() => Promise.resolve(undefined), passing(seen2, "b"), () => new Response("stop", { status: 401 }), passing(seen2, "d")], () => {
    seen2.push("terminal");
    return new Response("end");
  });
  const response2 = await chain2(exchange());
  assert.is(response2.status, 401);
  assert.equal(seen2, ["b"]);
});

test("an async terminal is awaited after synchronous filters", async () => {
  const seen: string[] = [];
  const chain = compileChain([passing(seen, "a")], async () => {
    seen.push("terminal");
    return new Response("async end");
  });
  assert.is(await toWebResponse(await chain(exchange())).text(), "async end");
  assert.equal(seen, ["a", "terminal"]);
});

test("the filter list is copied at compile time: a later change to the array changes nothing", async () => {
  const seen: string[] = [];
  const list: Filter[] = [passing(seen, "a")];
  const chain = compileChain(list, () => new Response("end"));
  list.push(passing(seen, "added-later"));
  await chain(exchange());
  assert.equal(seen, ["a"]);
});

// ── a real outbound chain with filters from this file ───────────────────────────────────────────

const MESH = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http }]
  endpoints: [{ address: 10.1.0.1 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: default }
spec:
  hosts: [echo]
  http:
  - route: [{ destination: { host: echo } }]
    retries: { attempts: 0 }
`;

interface Seen { url: string; headers: Headers }
interface Observed { status: number; flags: string; details: string }

/** a policy in one small factory: copies the client's x-echo into what goes upstream as x-echoed */
function headerEchoFilter(): Filter {
  return function headerEcho(exchange) {
    const value = exchange.facts.headers.get("x-echo");
    if (value !== null) exchange.facts.headers.set("x-echoed", value);
    return undefined;
  };
}

/** a policy that answers locally: 429 with its own flag and details, on the record like any filter's */
function refuseFilter(): Filter {
  return function refuse(exchange) {
    if (exchange.facts.headers.get("x-refuse") === null) return undefined;
    exchange.record.addFlag("RL");
    exchange.record.details = "local_rate_limited";
    return new Response("slow down", { status: 429 });
  };
}

/** the upstream's answer: 200 naming nothing, or what the test sets */
type Reply = (request: UpstreamRequest) => Promise<Response>;

async function outbound(filters: Filter[] | undefined, reply: Reply = () => Promise.resolve(new Response("from upstream"))) {
  const files = { "mesh.yaml": MESH };
  const loaded = await loadConfig(["mesh.yaml"], { defaultNamespace: "default", ...memoryIO(files) });
  assert.equal(loaded.errors.map(formatConfigError), []);
  const config = loaded.config!;
  const random = () => 0.5;
  const table = compile(config, snapshotFromConfig(config.serviceEntries, config.workloadEntries), { kind: "sidecar", namespace: "default", labels: {} }, { random, version: 1 });
  const sent: Seen[] = [];
  const observed: Observed[] = [];
  const upstream: UpstreamClient = {
    send(request) {
      sent.push({ url: request.url, headers: new Headers(request.headers) });
      return reply(request);
    },
  };
  const observer: Observer = {
    observe(_request, _path, _conn, record, response) {
      observed.push({ status: response.status, flags: record.flagText, details: record.details });
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
    observer,
  };
  const handler = outboundHandler({ table: { current: table }, select: (t) => t.outbound, port: (authority) => authorityPort(authority) ?? 80, deps, filters });
  const send = async (headers: Record<string, string> = {}) =>
    toWebResponse(await handler(new Request("http://echo:8080/path", { headers: { host: "echo:8080", ...headers } }), { remoteAddress: "10.0.0.9", remotePort: 1234 }));
  return { send, sent, observed };
}

test("a new policy is one factory plus one chain entry: the header-echo filter's header reaches the upstream", async () => {
  const withEcho = await outbound([headerEchoFilter()]);
  const response = await withEcho.send({ "x-echo": "hello" });
  assert.is(response.status, 200);
  assert.is(await response.text(), "from upstream");
  assert.is(withEcho.sent.length, 1);
  assert.is(withEcho.sent[0].url, "http://10.1.0.1:8080/path");
  assert.is(withEcho.sent[0].headers.get("x-echoed"), "hello");
  assert.is(withEcho.sent[0].headers.get("x-echo"), "hello", "the original stays");

  // the same chain without the entry: nothing adds the header
  const without = await outbound(undefined);
  await (await without.send({ "x-echo": "hello" })).text();
  assert.is(without.sent.length, 1);
  assert.is(without.sent[0].headers.get("x-echoed"), null);
});

test("a filter answering locally: its Response is the answer, the router never runs, its flag is rendered once", async () => {
  const chain = await outbound([headerEchoFilter(), refuseFilter()]);
  const response = await chain.send({ "x-refuse": "1", "x-echo": "e" });
  assert.is(response.status, 429);
  assert.is(await response.text(), "slow down");
  assert.is(chain.sent.length, 0, "nothing was sent upstream");
  assert.is(response.headers.get(FLAGS_HEADER), "RL", "the edge renders the record's flags");
  assert.equal(chain.observed, [{ status: 429, flags: "RL", details: "local_rate_limited" }]);

  // the filter lets other requests through to the router
  const passed = await chain.send({ "x-echo": "e" });
  assert.is(passed.status, 200);
  await passed.text();
  assert.is(chain.sent.length, 1);
  assert.is(passed.headers.get(FLAGS_HEADER), null);
  assert.equal(chain.observed[1], { status: 200, flags: "", details: "via_upstream" });
});

test("extra filters run after the host check: a request with two Hosts never reaches them", async () => {
  const seen: string[] = [];
  const chain = await outbound([passing(seen, "extra")]);
  const twice = await chain.send({ host: "echo:8080, other:8080" });
  await twice.text();
  assert.is(twice.status, 400);
  assert.is(twice.headers.get(FLAGS_HEADER), "DPE");
  assert.equal(seen, []);
  await (await chain.send()).text();
  assert.equal(seen, ["extra"]);
});

test("an upstream's flags header is not this hop's: dropped from the answer, not on the record", async () => {
  const chain = await outbound(undefined, () => Promise.resolve(new Response("aborted upstream", { status: 503, headers: { [FLAGS_HEADER]: "FI" } })));
  const response = await chain.send();
  assert.is(response.status, 503);
  assert.is(await response.text(), "aborted upstream");
  assert.is(response.headers.get(FLAGS_HEADER), null);
  assert.equal(chain.observed, [{ status: 503, flags: "", details: "via_upstream" }]);
});

// ── one classifier: a connect timeout is UF everywhere ──────────────────────────────────────────

const failing = (failure: "connect-timeout" | "connect" | "reset"): Reply => () => Promise.reject(new UpstreamError(failure, failure));

test("outbound: a connect timeout is UF, like a refused connect; a reset is UC", async () => {
  for (const [failure, flag, details] of [
    ["connect-timeout", "UF", "upstream_reset_before_response_started{connection_failure}"],
    ["connect", "UF", "upstream_reset_before_response_started{connection_failure}"],
    ["reset", "UC", "upstream_reset_before_response_started{connection_termination}"],
  ] as const) {
    const chain = await outbound(undefined, failing(failure));
    const response = await chain.send();
    await response.text();
    assert.is(response.status, 503, failure);
    assert.is(response.headers.get(FLAGS_HEADER), flag, failure);
    assert.equal(chain.observed, [{ status: 503, flags: flag, details }], failure);
  }
});

function inbound(reply: Reply): { handler: DataHandler; observed: Observed[]; sent: Seen[] } {
  const sent: Seen[] = [];
  const observed: Observed[] = [];
  const upstream: UpstreamClient = {
    send(request) {
      sent.push({ url: request.url, headers: new Headers(request.headers) });
      return reply(request);
    },
  };
  const random = () => 0.5;
  const deps: PipelineDeps = {
    upstream,
    clusters: createClusterStates(() => poolOverClient(upstream), systemClock),
    clock: systemClock,
    random,
    newRequestId: () => "rid",
    mirror: createMirrorSender(upstream, random),
    log: () => {},
  };
  const observer: Observer = {
    observe(_request, _path, _conn, record, response) {
      observed.push({ status: response.status, flags: record.flagText, details: record.details });
    },
  };
  const handler = inboundHandler({ app: "127.0.0.1:9080", deps, observer, security: () => undefined, appPort: 9080 });
  return { handler, observed, sent };
}

test("inbound (the app): a connect timeout is UF too, not UC; the app's own flags header is dropped", async () => {
  for (const [failure, flag] of [["connect-timeout", "UF"], ["connect", "UF"], ["reset", "UC"]] as const) {
    const side = inbound(failing(failure));
    const response = toWebResponse(await side.handler(new Request("http://app.local/x", { headers: { host: "app.local" } }), { remoteAddress: "10.0.0.9", remotePort: 1234 }));
    await response.text();
    assert.is(side.sent.length, 1, failure);
    assert.is(side.sent[0].url, "http://127.0.0.1:9080/x", failure);
    assert.is(response.status, 503, failure);
    assert.is(response.headers.get(FLAGS_HEADER), flag, failure);
    assert.is(side.observed[0].flags, flag, failure);
  }
  const passthrough = inbound(() => Promise.resolve(new Response("app", { status: 503, headers: { [FLAGS_HEADER]: "UH" } })));
  const response = toWebResponse(await passthrough.handler(new Request("http://app.local/x", { headers: { host: "app.local" } }), { remoteAddress: "10.0.0.9", remotePort: 1234 }));
  assert.is(await response.text(), "app");
  assert.is(response.headers.get(FLAGS_HEADER), null);
  assert.equal(passthrough.observed, [{ status: 503, flags: "", details: "via_upstream" }]);
});

test.run();
