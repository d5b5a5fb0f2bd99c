// Config fuzzer, `dietmesh check` side: random mutations of the demo's and the tests' Istio YAML
// (mutate.ts) go through check's core in a Worker (a time bound per input) and, a few of them,
// through the real CLI. Check must never throw, never hang, and answer either "no issues" (exit 0)
// or problem lines that each name a file of the input (exit 79, or 65 for unparsable input). Every input that breaks this is
// written to test/fuzz/regressions/ and replayed by the first test here from then on.
// DIETMESH_FUZZ_SECONDS runs longer (default: 20 s when CI is set, else 8 s); DIETMESH_FUZZ_SEED
// replays a run.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli } from "../support/mesh.ts";
import { corpus, fuzzSeconds, fuzzSeed, mutate, prng } from "./mutate.ts";
import { createChecker, problemsOf } from "./checker.ts";

const TIMEOUT_MS = 5000;
const here = new URL(".", import.meta.url).pathname;
const regressionsDir = `${here}regressions`;
const seed = fuzzSeed(platform.env);
const seconds = fuzzSeconds(platform.env, platform.env("CI") ? 20 : 8);
const checker = createChecker();
const files = corpus();

test.after(() => checker.close());

/** keeps a failing input as a regression fixture; returns where */
async function keep(name: string, text: string): Promise<string> {
  const path = `${regressionsDir}/${name}.yaml`;
  await platform.writeTextFile(path, text);
  return path;
}

test("every kept regression input: check answers, no throw, no hang", async () => {
  const names = (await platform.readDir(regressionsDir)).filter((n) => n.endsWith(".yaml"));
  for (const name of names) {
    const input = { [`in/${name}`]: await platform.readTextFile(`${regressionsDir}/${name}`) };
    const outcome = await checker.check(input, ["in"], TIMEOUT_MS);
    assert.equal(problemsOf(outcome, Object.keys(input), TIMEOUT_MS), [], name);
  }
});

test(`random mutations for ${seconds} s (seed ${seed}): check answers, no throw, no hang`, async () => {
  const rng = prng(seed);
  const deadline = Date.now() + seconds * 1000;
  let count = 0;
  const failures: string[] = [];
  const kinds = new Map<string, number>();
  while (Date.now() < deadline && failures.length < 5) {
    count++;
    // one mutated file, sometimes beside an unmutated one (cross-file checks: duplicates, subsets)
    const base = files[Math.floor(rng() * files.length)];
    const { text, ops } = mutate(base.text, rng);
    const input: Record<string, string> = { [`in/${base.path.replaceAll("/", "_")}`]: text };
    if (rng() < 0.3) {
      const other = files[Math.floor(rng() * files.length)];
      input[`in/other_${other.path.replaceAll("/", "_")}`] = other.text;
    }
    const outcome = await checker.check(input, ["in"], TIMEOUT_MS);
    const key = outcome.kind === "answer" ? `exit ${outcome.code}` : outcome.kind;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
    const problems = problemsOf(outcome, Object.keys(input), TIMEOUT_MS);
    if (problems.length) {
      const kept = await keep(`check-${seed}-${count}`, text);
      failures.push(`input ${count} (seed ${seed}; ${base.path}; ${ops.join(", ")}), kept as ${kept}:\n  ${problems.join("\n  ")}`);
    }
  }
  console.log(`check fuzz: seed ${seed}, ${count} inputs, outcomes ${JSON.stringify(Object.fromEntries(kinds))}`);
  assert.ok(count >= 10, `only ${count} inputs in ${seconds} s`);
  // the mutations must reach both answers, or the oracle checks little
  assert.ok((kinds.get("exit 79") ?? 0) > 0, JSON.stringify([...kinds]));
  assert.equal(failures, [], `seed ${seed} (replay with DIETMESH_FUZZ_SEED=${seed}):\n${failures.join("\n")}`);
});

test(`the real CLI on a few mutated files (seed ${seed}): istioctl's exit codes, lines naming the file`, async () => {
  const rng = prng(seed ^ 0x5eed);
  const dir = await platform.makeTempDir("dietmesh-fuzz-cli-");
  try {
    for (let i = 0; i < 4; i++) {
      const base = files[Math.floor(rng() * files.length)];
      const { text, ops } = mutate(base.text, rng);
      const path = `${dir}/input-${i}.yaml`;
      await platform.writeTextFile(path, text);
      const child = runScript(cli, ["check", path]);
      const code = await Promise.race([child.exited, new Promise<"hang">((r) => setTimeout(() => r("hang"), 30_000))]);
      if (code === "hang") child.kill("SIGKILL");
      const outcome = code === "hang" ? { kind: "hang" as const } : { kind: "answer" as const, code: code ?? -1, lines: child.lines };
      const problems = problemsOf(outcome, [path], 30_000);
      if (problems.length) await keep(`cli-${seed}-${i}`, text);
      assert.equal(problems, [], `seed ${seed}, CLI input ${i} (${base.path}; ${ops.join(", ")}):\n${child.lines.slice(-20).join("\n")}`);
    }
  } finally {
    await platform.remove(dir);
  }
});

test.run();
