// The nginx references of `npm run bench` do the job of the dietmesh rows they are measured against
// ("nginx doing the same job", issue 10): started from bench/configs.sh as the bench starts them,
// each must hand the app the same request — the same header fields, the request's own Host,
// X-Forwarded-For and -Proto, a request id (a client's own kept), and on the mesh pair the verified
// client in X-Forwarded-Client-Cert — and give the client the attempts header, as the gateway and
// the mesh pair of sidecars do. A reference that did less would flatter nginx in every ratio.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, root, startEcho, startGateway, startSidecar, stopAll, type CurlResult } from "../support/mesh.ts";

const GATEWAY_HOST = "bench.example";
const MESH_HOST = "b.default.svc.cluster.local:8080";
const app = startEcho("app");
const upstream = app.address.split(":")[1];
const nginxes: Child[] = [];
let tmp = "";

/** runs a bench/configs.sh function (the identities' CLI steps on Bun, as the bench makes them) */
async function configs(fn: string, ...args: string[]): Promise<void> {
  const child = runCommand("bash", ["-c", 'cd "$0" && source bench/configs.sh && "$@"', root, fn, ...args], {
    env: { TMP: tmp, BUN: `${root}node_modules/.bin/bun`, GATEWAY_HOST, MESH_HOST, BENCH_NGINX_JOB: "same" },
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${fn} ${args.join(" ")} exited ${code}: ${child.lines.join("\n")}`);
}

/** a reference as the bench starts it: its configs.sh function, nginx on each dir it wrote, then until probe (curl's arguments) answers 200 */
async function startReference(fn: string, args: string[], dirs: string[], probe: string[]): Promise<void> {
  await configs(fn, ...args);
  for (const dir of dirs) nginxes.push(runCommand("nginx", ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/logs/error.log`]));
  await eventually(async () => (await curl(probe)).status === 200, 5000, `${fn} serving`);
}

/** the request as the app saw it, and the client's answer, for one curl through a proxy */
async function through(args: string[]): Promise<{ seen: Record<string, string>; answer: CurlResult }> {
  const before = app.requests.length;
  const answer = await curl(args);
  assert.is(answer.status, 200, `${args.join(" ")}: ${answer.body}`);
  assert.is(app.requests.length, before + 1, "one request reached the app");
  return { seen: app.requests[before].headers, answer };
}

/** the two proxies sent the app the same fields, except the request id, which each makes its own */
function sameJob(nginx: Record<string, string>, dietmesh: Record<string, string>, differ: string[] = []): void {
  assert.equal(Object.keys(nginx).sort(), Object.keys(dietmesh).sort(), "the same header names reach the app");
  for (const name of Object.keys(dietmesh)) {
    if (name === "x-request-id" || differ.includes(name)) continue;
    assert.is(nginx[name], dietmesh[name], name);
  }
  // a fresh id of 128 bits: nginx's $request_id in hex, dietmesh's a UUID
  assert.match(nginx["x-request-id"], /^[0-9a-f]{32}$/);
  assert.match(dietmesh["x-request-id"], /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
}

test.before(async () => {
  tmp = await platform.makeTempDir("dietmesh-nginx-reference-");
});

test.after(async () => {
  // TERM: the master stops its worker too (a killed master would leave the worker holding our pipes)
  for (const n of nginxes) n.kill("SIGTERM");
  await Promise.all(nginxes.map((n) => n.exited));
  stopAll();
  await app.server.stop(true);
  await platform.remove(tmp);
});

test("gateway-nginx does what the gateway does: the route's match, Host kept, forwarding fields, a request id, the attempts header", async () => {
  const port = String(await closedPort());
  const request = (to: string, extra: string[] = []) => ["-H", `Host: ${GATEWAY_HOST}`, "-H", "x-bench-route: v1", ...extra, `http://${to}/bench/hello`];
  await startReference("gateway_nginx_config", [`${tmp}/gateway-nginx`, port, upstream], [`${tmp}/gateway-nginx`], request(`127.0.0.1:${port}`));
  await configs("gateway_config", `${tmp}/gateway`, upstream);
  const gateway = await startGateway(`${tmp}/gateway`);
  const viaNginx = await through(request(`127.0.0.1:${port}`));
  const viaGateway = await through(request(gateway.port80));
  sameJob(viaNginx.seen, viaGateway.seen);
  assert.is(viaGateway.seen.host, GATEWAY_HOST);
  assert.is(viaGateway.seen["x-forwarded-for"], "127.0.0.1");
  assert.is(viaGateway.seen["x-forwarded-proto"], "http");
  assert.is(viaNginx.answer.headers["x-dietmesh-attempts"], viaGateway.answer.headers["x-dietmesh-attempts"]);
  assert.is(viaGateway.answer.headers["x-dietmesh-attempts"], "1");
  // a client's own id and forwarding fields are kept and appended to by both
  const mine = ["-H", "x-request-id: mine", "-H", "x-forwarded-for: 10.0.0.1", "-H", "x-forwarded-proto: https"];
  const keptNginx = await through(request(`127.0.0.1:${port}`, mine));
  const keptGateway = await through(request(gateway.port80, mine));
  for (const seen of [keptNginx.seen, keptGateway.seen]) {
    assert.is(seen["x-request-id"], "mine");
    assert.is(seen["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
    assert.is(seen["x-forwarded-proto"], "https");
  }
  // off the route, both answer 404 themselves
  const miss = (to: string) => curl(["-H", `Host: ${GATEWAY_HOST}`, `http://${to}/bench/hello`]);
  assert.is((await miss(`127.0.0.1:${port}`)).status, 404);
  assert.is((await miss(gateway.port80)).status, 404);
});

test("the nginx row does what one sidecar's outbound listener does", async () => {
  const port = String(await closedPort());
  const host = "bench-upstream.default.svc.cluster.local:8080";
  await startReference("sidecar_nginx_config", [`${tmp}/sidecar-nginx`, port, upstream], [`${tmp}/sidecar-nginx`], ["-H", `Host: ${host}`, `http://127.0.0.1:${port}/`]);
  await configs("sidecar_config", `${tmp}/sidecar`, upstream);
  const sidecar = await startSidecar(`${tmp}/sidecar`);
  const viaNginx = await through(["-H", `Host: ${host}`, `http://127.0.0.1:${port}/`]);
  const viaSidecar = await through(["-H", `Host: ${host}`, `http://${sidecar.outbound}/`]);
  sameJob(viaNginx.seen, viaSidecar.seen);
  assert.is(viaNginx.answer.headers["x-dietmesh-attempts"], viaSidecar.answer.headers["x-dietmesh-attempts"]);
});

test("mesh-nginx does what the mesh pair does: mTLS both ways, both hops' forwarding fields, the verified client for the app", async () => {
  const [aPort, bPort, dmB] = [await closedPort(), await closedPort(), await closedPort()].map(String);
  await configs("mesh_identities");
  const nginxDirs = [`${tmp}/mesh-nginx-a`, `${tmp}/mesh-nginx-b`];
  await startReference("mesh_nginx_config", [...nginxDirs, aPort, bPort, upstream], nginxDirs, ["-H", `Host: ${MESH_HOST}`, `http://127.0.0.1:${aPort}/`]);
  await configs("mesh_config", `${tmp}/mesh-a`, `${tmp}/mesh-b`, dmB);
  const ca = ["--ca-dir", `${tmp}/ca`];
  await startSidecar(`${tmp}/mesh-b`, ["--app", app.address, "--inbound", `127.0.0.1:${dmB}`, ...ca, "--service-account", "b", "--labels", "app=b"]);
  const a = await startSidecar(`${tmp}/mesh-a`, [...ca, "--service-account", "a"]);
  const viaNginx = await through(["-H", `Host: ${MESH_HOST}`, `http://127.0.0.1:${aPort}/`]);
  const viaPair = await through(["-H", `Host: ${MESH_HOST}`, `http://${a.outbound}/`]);
  // each B describes its own peer: the same fields, with its own identity, the caller's and a hash or serial
  sameJob(viaNginx.seen, viaPair.seen, ["x-forwarded-client-cert"]);
  assert.is(viaPair.seen["x-forwarded-for"], "127.0.0.1, 127.0.0.1", "both hops append");
  assert.match(viaPair.seen["x-forwarded-client-cert"], /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/b;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/a$/);
  assert.match(viaNginx.seen["x-forwarded-client-cert"], /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/nginx-b;Serial=[0-9A-F]+;Subject=""$/);
  assert.is(viaNginx.answer.headers["x-dietmesh-attempts"], viaPair.answer.headers["x-dietmesh-attempts"]);
});

test.run();
