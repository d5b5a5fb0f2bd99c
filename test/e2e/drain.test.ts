// End to end: SIGTERM under load — requests in flight finish, new connections are refused once
// draining starts, and the process exits by itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript } from "../../runtime/platform/process.ts";
import { cli, curl, eventually, serviceEntry, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";

test.after(() => stopAll());

/** answers "done" 700 ms after each request, counting arrivals */
function slowServer() {
  const state = { arrived: 0 };
  const server = platform.serve({
    hostname: "127.0.0.1",
    port: 0,
    async handler() {
      state.arrived++;
      await new Promise((r) => setTimeout(r, 700));
      return new Response("done");
    },
  });
  return { port: server.port, arrived: () => state.arrived, stop: () => server.stop(true) };
}

test("SIGTERM: in-flight requests complete, new connections are refused, the sidecar exits", async () => {
  const slow = slowServer();
  const arrived = slow.arrived;
  const dir = await tempConfig({ "se.yaml": serviceEntry("slow", "slow.default.svc.cluster.local", [{ address: `127.0.0.1:${slow.port}` }]) });
  const sidecar = await startSidecar(dir, ["--drain-duration", "5s"]);
  const inFlight = Array.from({ length: 6 }, () => curl(["-H", "Host: slow:8080", `http://${sidecar.outbound}/work`]));
  await eventually(async () => arrived() === 6, 5000, "requests at the upstream");
  // sent with the real kill(1): Deno's child_process reports a child it signalled itself as killed,
  // whatever its exit status
  assert.is(await runCommand("kill", ["-TERM", String(sidecar.child.pid)]).exited, 0);
  await sidecar.child.waitFor(/draining/);
  // a new connection after draining started is refused (curl exit 7) or gets no answer
  const late = await curl(["-H", "Host: slow:8080", `http://${sidecar.outbound}/late`]).then(() => "answered", () => "refused");
  const results = await Promise.all(inFlight);
  assert.equal(results.map((r) => `${r.status} ${r.body}`), Array(6).fill("200 done"));
  assert.is(late, "refused");
  assert.is(await sidecar.child.exited, 0);
  await slow.stop();
});

test("SIGTERM on an mTLS-capable inbound listener: in-flight requests complete, new connections are refused", async () => {
  const slowApp = slowServer();
  const arrived = slowApp.arrived;
  const work = await platform.makeTempDir("dietmesh-drain-ca-");
  assert.is(await runScript(cli, ["ca", "init", "--dir", `${work}/ca`]).exited, 0);
  const sidecar = await startSidecar(await tempConfig({}), ["--app", `127.0.0.1:${slowApp.port}`, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--drain-duration", "5s"]);
  const inFlight = Array.from({ length: 4 }, () => curl([`http://${sidecar.inbound}/work`]));
  await eventually(async () => arrived() === 4, 5000, "requests at the app");
  assert.is(await runCommand("kill", ["-TERM", String(sidecar.child.pid)]).exited, 0);
  await sidecar.child.waitFor(/draining/);
  const late = await curl([`http://${sidecar.inbound}/late`]).then(() => "answered", () => "refused");
  const results = await Promise.all(inFlight);
  assert.equal(results.map((r) => `${r.status} ${r.body}`), Array(4).fill("200 done"));
  assert.is(late, "refused");
  assert.is(await sidecar.child.exited, 0);
  await slowApp.stop();
  await platform.remove(work);
});

test.run();
