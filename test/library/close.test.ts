// mesh.close() leaves nothing alive, even a cluster a config change dropped: its pool (and the
// kept-alive connection in it) waits 30 s for requests still on it, and that wait must not keep
// a library user's process running after close(). A child process does it all; it must exit by
// itself well within those 30 s.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { startEcho } from "../support/mesh.ts";

const upstream = startEcho("reviews");

test.after(() => upstream.server.stop());

test("a dropped cluster's pool does not outlive mesh.close(): the process ends on its own", async () => {
  const child = runScript(new URL("./dropped-cluster-exit.ts", import.meta.url).pathname, [String(upstream.server.port)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // the pool's wait is 30 s: a process alive after 15 s is held by it
  const deadline = new Promise<"alive">((resolve) => (timer = setTimeout(() => resolve("alive"), 15_000)));
  const code = await Promise.race([child.exited, deadline]);
  clearTimeout(timer);
  if (code === "alive") child.kill("SIGKILL");
  assert.is(code, 0, `the process stayed alive or failed:\n${child.lines.join("\n")}`);
  assert.equal(child.lines, ["called 200", "after reload 404", "closed"]);
  assert.is(upstream.requests.length, 1, "the call reached the upstream through the mesh");
});

test.run();
