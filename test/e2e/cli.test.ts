// The command line: --help for every command, one-line errors and exit 2 for bad flags.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";

async function run(args: string[]) {
  const child = runScript(cli, args);
  const code = await child.exited;
  return { code, out: child.lines.join("\n") };
}

for (const command of ["sidecar", "gateway", "check", "demo", "ca", "wait"]) {
  test(`${command} --help lists its flags`, async () => {
    const r = await run([command, "--help"]);
    assert.is(r.code, 0);
    assert.match(r.out, /Usage: dietmesh/);
    assert.match(r.out, /--help/);
  });
}

test("an unknown flag is a one-line error with exit 2", async () => {
  const r = await run(["sidecar", "--config", ".", "--frobnicate"]);
  assert.is(r.code, 2);
  assert.is(r.out.trim().split("\n").length, 1, r.out);
  assert.match(r.out, /unknown flag --frobnicate/);
});

test("a malformed address is a one-line error with exit 2", async () => {
  const r = await run(["sidecar", "--config", ".", "--outbound", "nonsense"]);
  assert.is(r.code, 2);
  assert.match(r.out, /--outbound: expected HOST:PORT/);
});

test("request-head limits out of Envoy's bounds are one-line errors with exit 2", async () => {
  for (const [flag, value] of [["--max-request-headers-kb", "0"], ["--max-request-headers-kb", "9000"], ["--max-request-headers", "0"], ["--max-request-headers", "ten"]]) {
    const r = await run(["sidecar", "--config", ".", flag, value]);
    assert.is(r.code, 2, `${flag} ${value}: ${r.out}`);
    assert.match(r.out, new RegExp(`${flag}: expected`));
  }
});

test("wait --admin that is no HOST:PORT: a one-line error with exit 2, at once", async () => {
  const r = await run(["wait", "--admin", "nonsense", "--timeout", "60s"]);
  assert.is(r.code, 2, r.out);
  assert.match(r.out, /--admin: expected HOST:PORT, got "nonsense"/);
});

test("an unknown command exits 2", async () => {
  const r = await run(["frob"]);
  assert.is(r.code, 2);
});

test("wait: exit 0 once a sidecar is ready, exit 1 at the timeout when none is", async () => {
  const nothing = await run(["wait", "--admin", "127.0.0.1:1", "--timeout", "300ms"]);
  assert.is(nothing.code, 1);
  assert.match(nothing.out, /not ready after 300ms/);
  const dir = await tempConfig({ "vs.yaml": "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: x }\nspec:\n  hosts: [x]\n  http:\n  - directResponse: { status: 200 }\n" });
  const sidecar = await startSidecar(dir);
  const ready = await run(["wait", "--admin", sidecar.admin, "--timeout", "10s"]);
  assert.is(ready.code, 0, ready.out);
  stopAll();
});

test.run();
