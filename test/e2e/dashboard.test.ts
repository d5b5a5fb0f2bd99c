// End to end in a real browser: Debian's Chromium (installed by ensure-tools.sh, never downloaded),
// driven by playwright-core, loads the demo gateway's /dashboard while bounded batches of requests
// go through the gateway. The graph must draw the demo's services — hello-istio with v1 and v2 from
// the gateway's own metrics, the alphabet services from the spelling sidecar's (read through
// --dashboard-peer) — and the live numbers must move. The page must fetch nothing but its own
// admin listener. A screenshot goes to a temp dir, or to docs/dashboard.png with
// DIETMESH_UPDATE_SCREENSHOT=1. playwright-core runs as is on both Bun and Deno.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chromium, type Browser, type Page } from "playwright-core";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, root } from "../support/mesh.ts";
import { upstreamClient } from "../../runtime/upstream/default-client.ts";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const SERVICES = ["hello-istio", "spelling-service", "alphabet-service", "a-service", "b-service", "c-service"];

let demo: Child | undefined;
let browser: Browser | undefined;
let page: Page;
let gateway = "";
let admin = "";
let dir = "";
const pageProblems: string[] = [];
const foreignRequests: string[] = [];

/** `count` requests through the gateway, `concurrency` at a time; resolves with any failures */
async function load(host: string, path: string, count: number, concurrency = 4): Promise<string[]> {
  const failures: string[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const res = await upstreamClient.send({ url: `http://${gateway}${path}`, method: "GET", headers: new Headers({ host }), body: null });
      const body = await res.text();
      if (res.status !== 200) failures.push(`${host}${path}: ${res.status} ${body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return failures;
}

/** one bounded round of the demo's traffic: hello (50-50) and spelling words (a/b/c and alphabet) */
async function traffic(hello: number, words: number): Promise<void> {
  const failures = (await Promise.all([
    load("hello-istio.cloud", "/api/hello", hello),
    load("spelling.cloud", "/api/spelling?word=abc", words, 2),
    load("spelling.cloud", "/api/spelling?word=mesh", words, 2),
  ])).flat();
  assert.equal(failures, []);
}

const numberIn = (id: string) => page.$eval(`#${id}`, (e) => Number(e.getAttribute("data-value")));

// uvu drops an error thrown in a before hook (its runner returns from a finally): print it, so a
// failed set-up says why instead of failing every test with no message
test.before(async () => {
  try {
    const tools = runCommand("bash", [`${root}scripts/ensure-tools.sh`, "chromium"]);
    assert.is(await tools.exited, 0, `ensure-tools.sh chromium:\n${tools.lines.join("\n")}`);
    dir = await platform.makeTempDir("dietmesh-dashboard-");
    demo = runScript(cli, ["demo", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", `${dir}/mesh`, "--ca-dir", `${dir}/ca`, "--scenario", "50-50"]);
    [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 40_000);
    [, admin] = await demo.waitFor(/^\s*gateway\s+port 80 on \S+\s+admin (\S+)/, 1000);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: 20_000 });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (e) => pageProblems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && pageProblems.push(`console: ${m.text()}`));
    page.on("request", (r) => void (r.url().startsWith(`http://${admin}/`) || foreignRequests.push(r.url())));
  } catch (error) {
    console.error("set-up failed:", error);
    throw error;
  }
});

test.after(async () => {
  await browser?.close().catch(() => {});
  if (demo) {
    demo.kill("SIGTERM");
    const timer = setTimeout(() => demo!.kill("SIGKILL"), 5000);
    await demo.exited;
    clearTimeout(timer);
  }
  if (dir) await platform.remove(dir);
});

test("the gateway's dashboard draws the demo's services, hello-istio's versions and the calls between them", async () => {
  await traffic(40, 6);
  const res = await page.goto(`http://${admin}/dashboard`);
  assert.is(res?.status(), 200);
  for (const name of SERVICES) await page.waitForSelector(`svg [data-node="${name}"]`, { timeout: 10_000 });
  await page.waitForSelector('svg [data-node="istio-ingressgateway"]');
  for (const v of ["v1", "v2"]) await page.waitForSelector(`svg [data-node="hello-istio"] [data-version="${v}"]`);
  // the calls spelling-service makes are known only to its sidecar: they come from the peer
  for (const to of ["a-service", "b-service", "c-service", "alphabet-service"]) {
    await page.waitForSelector(`svg path.edge[data-from="svc:spelling-service.default"][data-to="svc:${to}.default"]`);
  }
  await page.waitForSelector('svg path.edge[data-from="svc:istio-ingressgateway.default"][data-to="svc:hello-istio.default"]');
  // every hop in the demo is mTLS: the server side reports it
  assert.is(await page.$eval('svg [data-node="hello-istio"] [data-mtls]', (e) => e.getAttribute("data-mtls")), "mutual_tls");
  assert.ok(await page.$eval("#status", (e) => e.textContent === "live"));
});

test("the request total and rate move as requests go through", async () => {
  await page.waitForFunction(() => Number(document.getElementById("total-requests")!.getAttribute("data-value")) > 0, undefined, { timeout: 10_000 });
  const before = await numberIn("total-requests");
  await traffic(40, 4);
  // 40 hello requests alone add 40 gateway → hello-istio requests; polled against a deadline
  await page.waitForFunction((min) => Number(document.getElementById("total-requests")!.getAttribute("data-value")) >= min, before + 40, { timeout: 10_000 });
  await page.waitForFunction(() => Number(document.getElementById("total-rps")!.getAttribute("data-value")) > 0, undefined, { timeout: 10_000 });
  const after = await numberIn("total-requests");
  assert.ok(after >= before + 40, `total ${before} → ${after}`);
  const shares = await page.$$eval('svg [data-node="hello-istio"] [data-version] .share', (els) => els.map((e) => e.textContent));
  assert.is(shares.length, 2, JSON.stringify(shares));
});

test("a screenshot of the live page; nothing fetched from outside the admin listener", async () => {
  const loading = traffic(120, 10);
  await page.waitForFunction(() => Number(document.getElementById("total-rps")!.getAttribute("data-value")) > 5, undefined, { timeout: 10_000 });
  const update = platform.env("DIETMESH_UPDATE_SCREENSHOT") === "1";
  const path = update ? `${root}docs/dashboard.png` : `${dir}/dashboard.png`;
  const png = await page.screenshot({ path, fullPage: true });
  await loading;
  assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  assert.ok((await platform.readDir(path.slice(0, path.lastIndexOf("/")))).includes("dashboard.png"));
  console.log(`screenshot: ${path}${update ? "" : " (DIETMESH_UPDATE_SCREENSHOT=1 writes docs/dashboard.png)"}`);
  assert.equal(foreignRequests, []);
  assert.equal(pageProblems, []);
});

test.run();
