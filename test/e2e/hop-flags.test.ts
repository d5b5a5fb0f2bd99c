// End to end, two proxies in a row: a hop reports only what it did itself. Sidecar A's outbound and
// a gateway G each forward to sidecar B, whose outbound VirtualService injects faults (FI, DI) and
// whose inbound side guards an app that is down (UF) with an AuthorizationPolicy (403). The first
// proxy's client, access log and istio_requests_total show no flag for B's answers; B's show them.
// A failed connect is UF on the outbound and on the inbound side alike. The JSON access log's
// response_code_details says which step answered.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { FLAGS_HEADER } from "../../runtime/exchange/local-reply.ts";
import { curl, eventually, serviceEntry, startEcho, startGateway, startSidecar, stopAll, tempConfig, type CurlResult, type Gateway, type Sidecar } from "../support/mesh.ts";

const app = startEcho("hop");
let a: Sidecar;
let b: Sidecar;
let g: Gateway;

/** B's outbound: one service, a route per behaviour */
const B_ROUTES = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: hop }
spec:
  hosts: [hop]
  http:
  - match: [{ uri: { prefix: /fi } }]
    fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
    route: [{ destination: { host: hop } }]
  - match: [{ uri: { prefix: /delay } }]
    fault: { delay: { fixedDelay: 10ms, percentage: { value: 100 } } }
    route: [{ destination: { host: hop } }]
  - match: [{ uri: { prefix: /direct } }]
    directResponse: { status: 200, body: { string: direct-from-b } }
  - route: [{ destination: { host: hop } }]
`;

/** B's inbound: a DENY on one path */
const B_POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-denied, namespace: default }
spec:
  selector: { matchLabels: { app: b } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/denied"] } }] }]
`;

const NO_RETRIES = (host: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
  - route: [{ destination: { host: ${host} } }]
    retries: { attempts: 0 }
`;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: front-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [front.example] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: front }
spec:
  hosts: [front.example]
  gateways: [front-gateway]
  http:
  - rewrite: { authority: "hop:8080" }
    route: [{ destination: { host: hop.default.svc.cluster.local, port: { number: 8080 } } }]
`;

test.before(async () => {
  const appDown = await closedPort();
  const dead = await closedPort();
  const bConfig = await tempConfig({
    "hop.yaml": serviceEntry("hop", "hop.default.svc.cluster.local", [{ address: app.address }]),
    "routes.yaml": B_ROUTES,
    "policy.yaml": B_POLICY,
  });
  b = await startSidecar(bConfig, ["--app", `127.0.0.1:${appDown}`, "--inbound", "127.0.0.1:0", "--labels", "app=b,version=v1", "--access-log", "json"]);
  assert.ok(b.inbound, "B serves an inbound listener");
  // A and G know "hop" as B's outbound listener, "b-in" as B's inbound listener
  const aConfig = await tempConfig({
    "hop.yaml": serviceEntry("hop", "hop.default.svc.cluster.local", [{ address: b.outbound }]),
    "b-in.yaml": serviceEntry("b-in", "b-in.default.svc.cluster.local", [{ address: b.inbound! }]) + "---\n" + NO_RETRIES("b-in"),
    "dead.yaml": serviceEntry("dead", "dead.default.svc.cluster.local", [{ address: `127.0.0.1:${dead}` }]) + "---\n" + NO_RETRIES("dead"),
  });
  const gConfig = await tempConfig({
    "hop.yaml": serviceEntry("hop", "hop.default.svc.cluster.local", [{ address: b.outbound }]),
    "gateway.yaml": GATEWAY,
  });
  [a, g] = await Promise.all([
    startSidecar(aConfig, ["--labels", "app=a,version=v1", "--access-log", "json"]),
    startGateway(gConfig, ["--access-log", "json"]),
  ]);
});

test.after(async () => {
  stopAll();
  await app.server.stop(true);
});

interface Entry {
  response_code: number;
  response_flags: string;
  response_code_details: string | null;
  path: string;
}

/** a request with its own x-request-id, so each proxy's log line for it can be found */
function ask(address: string, host: string, path: string, id: string): Promise<CurlResult> {
  return curl(["-H", `Host: ${host}`, "-H", `x-request-id: ${id}`, `http://${address}${path}`]);
}

/** the JSON access-log line a process wrote for request id */
async function logged(lines: string[], id: string, what: string): Promise<Entry> {
  const line = await eventually(async () => lines.find((l) => l.startsWith("{") && l.includes(`"request_id":"${id}"`)), 5000, `${what} log line for ${id}`);
  return JSON.parse(line);
}

/** istio_requests_total lines of a proxy's /stats/prometheus */
async function requestsTotal(admin: string): Promise<string[]> {
  const text = (await curl([`http://${admin}/stats/prometheus`])).body;
  return text.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
}

test("FI on the second hop: A's client, access log and metrics show no flag; B's show FI", async () => {
  const r = await ask(a.outbound, "hop:8080", "/fi", "fi-via-a");
  assert.is(r.status, 503);
  assert.is(r.body, "fault filter abort", "B's abort came back through A");
  assert.is(r.headers[FLAGS_HEADER], undefined, "A did nothing flag-worthy");
  const first = await logged(a.child.lines, "fi-via-a", "A");
  assert.is(first.response_code, 503);
  assert.is(first.response_flags, "-");
  assert.is(first.response_code_details, "via_upstream");
  const second = await logged(b.child.lines, "fi-via-a", "B");
  assert.is(second.response_code, 503);
  assert.is(second.response_flags, "FI");
  assert.is(second.response_code_details, "fault_filter_abort");
});

test("DI on the second hop: the delayed answer is B's DI, and A's plain proxied 200", async () => {
  const r = await ask(a.outbound, "hop:8080", "/delay", "di-via-a");
  assert.is(r.status, 200);
  assert.is(JSON.parse(r.body).name, "hop", "the app answered");
  assert.is(r.headers[FLAGS_HEADER], undefined);
  const first = await logged(a.child.lines, "di-via-a", "A");
  assert.is(first.response_flags, "-");
  assert.is(first.response_code_details, "via_upstream");
  const second = await logged(b.child.lines, "di-via-a", "B");
  assert.is(second.response_code, 200);
  assert.is(second.response_flags, "DI");
  assert.is(second.response_code_details, "via_upstream", "a delayed request still got its answer from upstream");
});

test("the same through a gateway: G's client and log show none of B's FI", async () => {
  const r = await ask(g.port80, "front.example", "/fi", "fi-via-g");
  assert.is(r.status, 503);
  assert.is(r.body, "fault filter abort");
  assert.is(r.headers[FLAGS_HEADER], undefined);
  const first = await logged(g.child.lines, "fi-via-g", "G");
  assert.is(first.response_flags, "-");
  assert.is(first.response_code_details, "via_upstream");
  const second = await logged(b.child.lines, "fi-via-g", "B");
  assert.is(second.response_flags, "FI");
  assert.is(second.response_code_details, "fault_filter_abort");
});

test("istio_requests_total: the first hops count B's 503 and 200 with no flags, B counts FI and DI", async () => {
  const aLines = await requestsTotal(a.admin);
  const aHop = aLines.filter((l) => l.includes('destination_service="hop.default.svc.cluster.local"'));
  assert.ok(aHop.some((l) => l.includes('response_code="503"') && l.includes('response_flags="-"')), aHop.join("\n"));
  assert.ok(aHop.some((l) => l.includes('response_code="200"') && l.includes('response_flags="-"')), aHop.join("\n"));
  assert.not.ok(aLines.some((l) => /response_flags="[^"]*(FI|DI)/.test(l)), `A counted B's flags:\n${aLines.join("\n")}`);
  const gLines = await requestsTotal(g.admin);
  assert.ok(gLines.some((l) => l.includes('response_code="503"') && l.includes('response_flags="-"')), gLines.join("\n"));
  assert.not.ok(gLines.some((l) => l.includes('response_flags="FI"')), `G counted B's flags:\n${gLines.join("\n")}`);
  const bLines = await requestsTotal(b.admin);
  // A and G each sent one /fi, A one /di
  assert.ok(bLines.some((l) => l.includes('reporter="source"') && l.includes('response_code="503"') && l.includes('response_flags="FI"') && / 2$/.test(l)), bLines.join("\n"));
  assert.ok(bLines.some((l) => l.includes('reporter="source"') && l.includes('response_code="200"') && l.includes('response_flags="DI"') && / 1$/.test(l)), bLines.join("\n"));
});

test("a failed connect is UF on the outbound side: A's client, log and metrics", async () => {
  const r = await ask(a.outbound, "dead:8080", "/", "uf-out");
  assert.is(r.status, 503);
  assert.is(r.headers[FLAGS_HEADER], "UF");
  const entry = await logged(a.child.lines, "uf-out", "A");
  assert.is(entry.response_flags, "UF");
  assert.is(entry.response_code_details, "upstream_reset_before_response_started{connection_failure}");
  const lines = await requestsTotal(a.admin);
  assert.ok(lines.some((l) => l.includes('destination_service="dead.default.svc.cluster.local"') && l.includes('response_flags="UF"')), lines.join("\n"));
});

test("a failed connect to the app is UF on the inbound side too, and only there: A proxies a plain 503", async () => {
  const r = await ask(a.outbound, "b-in:8080", "/work", "uf-in");
  assert.is(r.status, 503);
  assert.is(r.body, "upstream connect error or disconnect/reset before headers. reset reason: connection failure", "B's local reply, through A");
  assert.is(r.headers[FLAGS_HEADER], undefined);
  const first = await logged(a.child.lines, "uf-in", "A");
  assert.is(first.response_flags, "-");
  assert.is(first.response_code_details, "via_upstream");
  const second = await logged(b.child.lines, "uf-in", "B");
  assert.is(second.response_code, 503);
  assert.is(second.response_flags, "UF");
  assert.is(second.response_code_details, "upstream_reset_before_response_started{connection_failure}");
  const lines = await requestsTotal(b.admin);
  assert.ok(lines.some((l) => l.includes('reporter="destination"') && l.includes('response_code="503"') && l.includes('response_flags="UF"')), lines.join("\n"));
  assert.not.ok(lines.some((l) => l.includes('response_flags="UC"')), "a failed connect is never UC");
});

test("response_code_details: route_not_found, direct_response, and the AuthorizationPolicy's 403", async () => {
  const nr = await ask(a.outbound, "nowhere:8080", "/", "nr");
  assert.is(nr.status, 404);
  assert.is(nr.headers[FLAGS_HEADER], "NR");
  const nrEntry = await logged(a.child.lines, "nr", "A");
  assert.is(nrEntry.response_flags, "NR");
  assert.is(nrEntry.response_code_details, "route_not_found");

  const direct = await ask(a.outbound, "hop:8080", "/direct", "direct");
  assert.is(direct.status, 200);
  assert.is(direct.body, "direct-from-b");
  const directB = await logged(b.child.lines, "direct", "B");
  assert.is(directB.response_flags, "-");
  assert.is(directB.response_code_details, "direct_response");
  assert.is((await logged(a.child.lines, "direct", "A")).response_code_details, "via_upstream", "to A it is an upstream's answer");

  const denied = await ask(a.outbound, "b-in:8080", "/denied", "denied");
  assert.is(denied.status, 403);
  assert.is(denied.body, "RBAC: access denied");
  assert.is(denied.headers[FLAGS_HEADER], undefined);
  const deniedB = await logged(b.child.lines, "denied", "B");
  assert.is(deniedB.response_code, 403);
  assert.is(deniedB.response_flags, "-");
  assert.is(deniedB.response_code_details, "rbac_access_denied_matched_policy[none]");
  const deniedA = await logged(a.child.lines, "denied", "A");
  assert.is(deniedA.response_code, 403);
  assert.is(deniedA.response_code_details, "via_upstream");
});

test("a plain proxied answer is via_upstream with no flags on both hops", async () => {
  const r = await ask(a.outbound, "hop:8080", "/plain", "plain");
  assert.is(r.status, 200);
  assert.is(JSON.parse(r.body).url.endsWith("/plain"), true);
  for (const [name, lines] of [["A", a.child.lines], ["B", b.child.lines]] as const) {
    const entry = await logged(lines, "plain", name);
    assert.is(entry.response_flags, "-", name);
    assert.is(entry.response_code_details, "via_upstream", name);
  }
});

test.run();
