// platform.collectNow (called after each config swap, issue 11): where the runtime has it (Bun),
// garbage is gone when it returns; Deno offers no collection without a flag and has none.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";

/** 100 unreachable objects of 1 MB each, watched by WeakRefs (made in a function of their own) */
function garbage(): WeakRef<object>[] {
  return Array.from({ length: 100 }, () => new WeakRef({ bytes: new Uint8Array(1 << 20) }));
}

test("collectNow frees unreachable objects before it returns (Bun); absent on Deno", async () => {
  if (platform.name === "deno") return assert.is(platform.collectNow, undefined);
  const refs = garbage();
  await Promise.resolve(); // WeakRef targets are kept until the job that made them ends
  await new Promise((resolve) => setTimeout(resolve, 0));
  platform.collectNow!();
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  // a conservative stack scan may keep a few; an async hint instead of a collection keeps them all
  assert.ok(alive < 10, `${alive} of 100 still alive`);
});

test.run();
