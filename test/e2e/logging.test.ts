// The proxies' own log lines: --log-format json gives one JSON object per line (time, level,
// component, msg) that tools can parse, and --log-level drops what is below it — an error (a port
// that cannot be bound) still shows at --log-level error, the info lines do not.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { platform } from "../../runtime/platform/index.ts";
import { cli, curl, eventually, stopAll, tempConfig } from "../support/mesh.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: g }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }]
`;

test.after(() => stopAll());

test("--log-format json: every line is a JSON object with time, level, component and msg", async () => {
  const config = await tempConfig({ "g.yaml": GATEWAY });
  const child = runScript(cli, ["gateway", "--config", config, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", "--log-format", "json"]);
  await child.waitFor(/"msg":"ready on /);
  child.kill("SIGKILL");
  await child.exited;
  const lines = child.lines.filter((l) => l.trim());
  assert.ok(lines.length >= 2, lines.join("\n"));
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.equal(Object.keys(entry), ["time", "level", "component", "msg"]);
    assert.is(entry.component, "gateway");
    assert.ok(!Number.isNaN(Date.parse(entry.time)));
  }
});

test("--log-level error: the bind failure is logged, the info lines are not", async () => {
  const busy = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("busy") });
  const config = await tempConfig({ "g.yaml": GATEWAY });
  const admin = await closedPort();
  const child = runScript(cli, ["gateway", "--config", config, "--bind", `80=127.0.0.1:${busy.port}`, "--admin", `127.0.0.1:${admin}`, "--log-level", "error", "--log-format", "json"]);
  try {
    const [line] = await child.waitFor(/^.*cannot listen.*$/);
    assert.is(JSON.parse(line).level, "error");
    // ready: its "ready on" info line would have been written by now
    await eventually(async () => (await curl([`http://127.0.0.1:${admin}/ready`]).catch(() => undefined))?.status === 200, 10_000, "the gateway's /ready");
  } finally {
    child.kill("SIGKILL");
    await child.exited;
    await busy.stop(true);
  }
  assert.not.ok(child.lines.some((l) => l.includes('"level":"info"')), child.lines.join("\n"));
});

test("a bad --log-level is a usage error (exit 2)", async () => {
  const child = runScript(cli, ["gateway", "--config", "/nonexistent", "--log-level", "loud"]);
  assert.is(await child.exited, 2);
  assert.match(child.lines.join("\n"), /--log-level: expected debug, info, warn or error/);
});

test.run();
