// The app's probes through a real sidecar: `--app-probes` (as `dietmesh inject` writes it) makes the
// admin listener answer /app-health/<container>/<livez|readyz|startupz> by asking the app on
// 127.0.0.1 — 200 while the app's probe path answers 200, the app's 500, 503 when the app is gone or
// slower than timeoutSeconds. The last test follows a manifest through inject to the kubelet's view.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, curl, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

/** the app: its probe paths answer what the test sets; it records what the prober sent */
let health = 200;
const seen: { path: string; headers: Record<string, string> }[] = [];
function startApp() {
  return platform.serve({
    hostname: "127.0.0.1",
    port: 0,
    async handler(request) {
      const url = new URL(request.url);
      seen.push({ path: url.pathname + url.search, headers: Object.fromEntries(request.headers) });
      if (url.pathname === "/slow") await new Promise((r) => setTimeout(r, 5000));
      if (url.pathname === "/moved") return new Response(null, { status: 302, headers: { location: "/elsewhere" } });
      return new Response(`health ${health}\n`, { status: health });
    },
  });
}
let app = startApp();
const appPort = app.port;
let sidecar: Sidecar;
let configDir = "";

const probes = {
  "/app-health/web/livez": { httpGet: { path: "/healthz?full=1", port: appPort, scheme: "HTTP", httpHeaders: [{ name: "X-Probe", value: "kubelet" }] }, timeoutSeconds: 1 },
  "/app-health/web/readyz": { httpGet: { path: "/slow", port: appPort, scheme: "HTTP" }, timeoutSeconds: 1 },
  "/app-health/web/startupz": { httpGet: { path: "/moved", port: appPort, scheme: "HTTP" } },
};

const probe = (path: string) => curl(["-A", "kube-probe/1.31", `http://${sidecar.admin}${path}`]);

test.before(async () => {
  configDir = await tempConfig({});
  sidecar = await startSidecar(configDir, ["--app", `127.0.0.1:${appPort}`, "--inbound", "127.0.0.1:0", "--app-probes", JSON.stringify(probes)]);
});

test.after(async () => {
  stopAll();
  await app.stop(true);
  await platform.remove(configDir);
});

test("200 while the app's probe path answers 200; the app sees its own path, headers and the kubelet's user agent", async () => {
  health = 200;
  seen.length = 0;
  const r = await probe("/app-health/web/livez");
  assert.is(r.status, 200, r.body);
  assert.is(seen.length, 1);
  assert.is(seen[0].path, "/healthz?full=1");
  assert.is(seen[0].headers["x-probe"], "kubelet");
  assert.is(seen[0].headers["user-agent"], "kube-probe/1.31");
  assert.is(seen[0].headers.host, `127.0.0.1:${appPort}`);
});

test("the app's failure status is the probe's answer (500 → 500, 404 → 404)", async () => {
  health = 500;
  assert.is((await probe("/app-health/web/livez")).status, 500);
  health = 404;
  assert.is((await probe("/app-health/web/livez")).status, 404);
  health = 200;
  assert.is((await probe("/app-health/web/livez")).status, 200, "and back");
});

test("a redirect counts as success (200), as the kubelet counts it", async () => {
  const r = await probe("/app-health/web/startupz");
  assert.is(r.status, 200, r.body);
  assert.is(r.headers.location, undefined, "no Location that would lead the kubelet into the admin listener");
});

test("an app slower than timeoutSeconds → 503 naming the timeout", async () => {
  const r = await probe("/app-health/web/readyz");
  assert.is(r.status, 503, r.body);
  assert.match(r.body, /did not answer within 1s/);
});

test("a path with no probe → 404; a sidecar without --app-probes → 404", async () => {
  assert.is((await probe("/app-health/other/livez")).status, 404);
  const plain = await startSidecar(configDir);
  assert.is((await curl([`http://${plain.admin}/app-health/web/livez`])).status, 404);
  plain.child.kill();
});

test("the app gone → 503; back → 200", async () => {
  await app.stop(true);
  const gone = await probe("/app-health/web/livez");
  assert.is(gone.status, 503, gone.body);
  app = platform.serve({ hostname: "127.0.0.1", port: appPort, handler: () => new Response("ok\n") });
  assert.is((await probe("/app-health/web/livez")).status, 200);
});

test("bad --app-probes is a one-line error, exit 2", async () => {
  for (const [value, message] of [
    ["{nope", /--app-probes: not JSON/],
    [JSON.stringify({ "/healthz": probes["/app-health/web/livez"] }), /--app-probes: "\/healthz": expected \/app-health\/<container>\/<livez\|readyz\|startupz>/],
    [JSON.stringify({ "/app-health/web/livez": { httpGet: { path: "/", port: 8443, scheme: "HTTPS" } } }), /only HTTP probes/],
    [JSON.stringify({ "/app-health/web/livez": { httpGet: { path: "/", port: 0 } } }), /httpGet\.port/],
  ] as [string, RegExp][]) {
    const child = runScript(cli, ["sidecar", "--config", configDir, "--admin", "127.0.0.1:0", "--outbound", "127.0.0.1:0", "--app-probes", value]);
    const code = await child.exited;
    assert.is(code, 2, child.lines.join("\n"));
    assert.is(child.lines.filter(Boolean).length, 1, child.lines.join("\n"));
    assert.match(child.lines.join("\n"), message);
  }
});

test("through inject: the kubelet's rewritten probe, asked of a sidecar run with the injected --app-probes", async () => {
  const manifest = await tempConfig({
    "web.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: web
        image: web:1
        ports: [{ name: http, containerPort: ${appPort} }]
        livenessProbe: { httpGet: { path: /healthz, port: http } }
`,
  });
  const injected = runScript(cli, ["inject", "-f", `${manifest}/web.yaml`]);
  assert.is(await injected.exited, 0, injected.lines.join("\n"));
  const [deployment] = Array.from(parseAllDocuments(injected.lines.join("\n")), (d) => d.toJS());
  const pod = deployment.spec.template.spec;
  const args: string[] = pod.initContainers[0].args;
  const kubelet = pod.containers[0].livenessProbe.httpGet;
  assert.is(kubelet.port, 15020, "the kubelet asks the sidecar's status port");
  const probed = await startSidecar(configDir, ["--app", `127.0.0.1:${appPort}`, "--inbound", "127.0.0.1:0", "--status", "127.0.0.1:0", "--app-probes", args[args.indexOf("--app-probes") + 1]]);
  const [, status] = await probed.child.waitFor(/status on (\S+)/);
  health = 200;
  assert.is((await curl([`http://${status}${kubelet.path}`])).status, 200);
  probed.child.kill();
  await platform.remove(manifest);
});

test.run();
