// --log-level warn keeps the failures a user must see: a Consul agent that takes the registration
// but refuses the TTL check update (500) is logged at warn, and nothing at info is written. Real
// sidecar, a stand-in agent on loopback; the first check update happens before ready, so no waits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { cli, curl, eventually, tempConfig } from "../support/mesh.ts";

const seen: string[] = [];
const agent = platform.serve({
  hostname: "127.0.0.1",
  port: 0,
  handler(request) {
    const path = new URL(request.url).pathname;
    seen.push(`${request.method} ${path}`);
    if (path === "/v1/agent/service/register") return new Response("");
    return new Response("check update refused", { status: 500 });
  },
});
const app = platform.serve({ hostname: "127.0.0.1", port: 0, handler: () => new Response("app") });

test.after(async () => {
  await agent.stop(true);
  await app.stop(true);
});

test("--log-level warn: a failed Consul check update is logged at warn; info lines are not", async () => {
  const config = await tempConfig({ "empty.yaml": "" });
  const admin = await closedPort();
  const child = runScript(cli, [
    "sidecar", "--config", config, "--outbound", "127.0.0.1:0", "--admin", `127.0.0.1:${admin}`,
    "--app", `127.0.0.1:${app.port}`, "--inbound", "127.0.0.1:0", "--labels", "app=ratings",
    "--consul-register", `http://127.0.0.1:${agent.port}`, "--log-level", "warn", "--log-format", "json",
  ]);
  try {
    const [line] = await child.waitFor(/^.*consul check update failed.*$/);
    const entry = JSON.parse(line);
    assert.is(entry.level, "warn");
    assert.match(entry.msg, /500/);
    assert.ok(seen.some((s) => /^PUT \/v1\/agent\/check\/(pass|fail)\//.test(s)), seen.join("\n"));
    // ready: its "ready on" info line would have been written by now
    await eventually(async () => (await curl([`http://127.0.0.1:${admin}/ready`]).catch(() => undefined))?.status === 200, 10_000, "the sidecar's /ready");
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
  const lines = child.lines.filter((l) => l.trim());
  assert.not.ok(lines.some((l) => JSON.parse(l).level === "info"), lines.join("\n"));
});

test.run();
