// CORS end to end in a real browser: Debian's Chromium (as dashboard.test.ts drives it) loads a
// page from one origin and fetches, with credentials and a custom header — so the browser sends a
// real preflight first — through a real gateway process to a backend on another port. The route's
// corsPolicy allows the page's origin by RE2 regex: the fetch succeeds, an exposed response header
// is readable, and the backend sees the PUT but never the preflight, which the gateway answered.
// The same page served under another origin (localhost instead of 127.0.0.1) is not allowed: the
// browser's fetch fails with a TypeError, the preflight is forwarded (unmatchedPreflights FORWARD)
// and the PUT never reaches the backend.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chromium, type Browser } from "playwright-core";
import { platform, type Server } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { root, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`;
const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: api }
spec:
  hosts: ["*"]
  gateways: [web]
  http:
  - corsPolicy:
      allowOrigins: [{ regex: "http://127\\\\.0\\\\.0\\\\.1:[0-9]+" }]
      allowMethods: [GET, PUT]
      allowHeaders: [x-custom, content-type]
      exposeHeaders: [x-echo]
      allowCredentials: true
      maxAge: 1m
    route: [{ destination: { host: api.default.svc.cluster.local } }]
`;

const api = startEcho("api");
let pages: Server | undefined;
let browser: Browser | undefined;
let gateway: Gateway;
let dir = "";
let pagePort = 0;

interface FetchResult {
  ok: boolean;
  status?: number;
  exposed?: string | null;
  error?: string;
}

/** from a fresh page on pageOrigin: a credentialed PUT with a custom header to the gateway */
async function crossOriginPut(pageOrigin: string): Promise<FetchResult> {
  const context = await browser!.newContext();
  try {
    const page = await context.newPage();
    const loaded = await page.goto(`${pageOrigin}/`);
    assert.is(loaded?.status(), 200);
    return await page.evaluate(async (url) => {
      try {
        const r = await fetch(url, { method: "PUT", credentials: "include", headers: { "x-custom": "1", "content-type": "application/json" }, body: '{"a":1}' });
        await r.text();
        return { ok: true, status: r.status, exposed: r.headers.get("x-echo") };
      } catch (e) {
        return { ok: false, error: (e as Error).name };
      }
    }, `http://${gateway.port80}/items`);
  } finally {
    await context.close();
  }
}

const seenBy = (origin: string) => api.requests.filter((r) => r.headers.origin === origin).map((r) => r.method);

// uvu drops an error thrown in a before hook (its runner returns from a finally): print it, so a
// failed set-up says why instead of failing every test with no message
test.before(async () => {
  try {
    const tools = runCommand("bash", [`${root}scripts/ensure-tools.sh`, "chromium"]);
    assert.is(await tools.exited, 0, `ensure-tools.sh chromium:\n${tools.lines.join("\n")}`);
    pages = platform.serve({
      hostname: "127.0.0.1",
      port: 0,
      handler: () => new Response("<!doctype html><title>cors page</title><p>cors</p>", { headers: { "content-type": "text/html" } }),
    });
    pagePort = pages.port;
    dir = await tempConfig({
      "gateway.yaml": GATEWAY,
      "vs.yaml": VS,
      "registry.yaml": serviceEntry("api", "api.default.svc.cluster.local", [{ address: api.address }]),
    });
    gateway = await startGateway(dir);
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, timeout: 20_000 });
  } catch (error) {
    console.error("set-up failed:", error);
    throw error;
  }
});

test.after(async () => {
  await browser?.close().catch(() => {});
  stopAll();
  await pages?.stop(true);
  await api.server.stop(true);
  if (dir) await platform.remove(dir);
});

test("an allowed origin: the browser's preflight is answered by the gateway, the PUT goes through, an exposed header is readable", async () => {
  const origin = `http://127.0.0.1:${pagePort}`;
  const result = await crossOriginPut(origin);
  assert.equal(result, { ok: true, status: 200, exposed: "api" });
  assert.equal(seenBy(origin), ["PUT"], "the backend saw the PUT and never the preflight OPTIONS");
  assert.is(api.requests.find((r) => r.method === "PUT")!.body, '{"a":1}');
});

test("a disallowed origin: the browser's fetch fails with a TypeError; the preflight is forwarded, the PUT never sent", async () => {
  const origin = `http://localhost:${pagePort}`;
  const result = await crossOriginPut(origin);
  assert.equal(result, { ok: false, error: "TypeError" });
  assert.equal(seenBy(origin), ["OPTIONS"], "unmatchedPreflights FORWARD: the backend got the preflight, and no CORS answer came back");
});

test.run();
