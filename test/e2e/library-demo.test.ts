// End to end, `dietmesh demo --library spelling` (issue 16 item 4): the spelling service runs with the
// mesh in process — no sidecar — among sidecar workloads. The demo's mesh is mesh-wide STRICT and
// only spelling-service may call alphabet-service, so a spelled word proves both directions are
// mTLS with the library's own identity: the gateway's sidecar-less call into the library's
// listener, and the library's calls out (abc to a-, b-, c-service; other words to alphabet-service).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript, type Child } from "../../runtime/platform/process.ts";
import { cli, curl } from "../support/mesh.ts";

let demo: Child;
let dir: string;
let gateway: string;

const spell = async (word: string) => {
  const r = await curl(["-H", "Host: spelling.cloud", `http://${gateway}/api/spelling?word=${word}`]);
  assert.is(r.status, 200, r.body);
  return JSON.parse(r.body) as string[];
};

test.before(async () => {
  dir = await platform.makeTempDir("dietmesh-libdemo-");
  demo = runScript(cli, ["demo", "--library", "spelling", "--gateway", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dir", dir, "--ca-dir", `${dir}-ca`]);
  [, gateway] = await demo.waitFor(/DEMO READY (\S+)/, 60_000);
});

test.after(async () => {
  demo.kill("SIGTERM");
  await demo.exited;
  await platform.remove(dir);
  await platform.remove(`${dir}-ca`);
});

test("the launcher says spelling-service runs with the mesh in process, with an mTLS inbound", async () => {
  assert.ok(demo.lines.some((l) => /^\s+spelling-service v1\s+mesh in process \(pid \d+, no sidecar\)\s+inbound \S+ \(mTLS\)/.test(l)), demo.lines.join("\n"));
  assert.not.ok(demo.lines.some((l) => l.startsWith("[sidecar spelling-service")), "no sidecar for spelling-service");
});

test("abc through the gateway: the library calls a-, b- and c-service over mTLS", async () => {
  assert.equal(await spell("abc"), ["Alfa", "Bravo", "Charlie"]);
});

test("another word: the library calls alphabet-service, which admits only spelling-service's identity", async () => {
  assert.equal(await spell("mesh"), ["Mike", "Echo", "Sierra", "Hotel"]);
});

test.run();
