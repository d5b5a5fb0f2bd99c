// The command line: --help for every command, one-line errors and exit 2 for bad flags.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { cli } from "../support/mesh.ts";

async function run(args: string[]) {
  const child = runScript(cli, args);
  const code = await child.exited;
  return { code, out: child.lines.join("\n") };
}

for (const command of ["sidecar", "gateway", "check", "demo"]) {
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

test("an unknown command exits 2", async () => {
  const r = await run(["frob"]);
  assert.is(r.code, 2);
});

test.run();
