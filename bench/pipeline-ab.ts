// An A/B of dietmesh's own JavaScript between two trees, in one process: this tree's
// bench/pipeline-js.ts and a base tree's (a worktree of another commit; copy this tree's
// pipeline-js.ts into it when that commit's predates measure()), imported side by side, their
// rounds alternated. Run to run this host swings by up to 60 % (17 against 28 µs for the same
// mesh pair), which a comparison of two separate runs cannot see through; rounds taken in turn in
// one process are hit alike. The figure is the median of the per-round ratios (an A/A run of one
// commit in two worktrees gave 0.99, interquartile range 0.96–1.00). pipeline-js's own flags
// (--mesh, --connections, --tracer, --no-observer) apply to both sides.
// Usage: bun bench/pipeline-ab.ts --base /path/to/tree [--ab-rounds 30] [--ab-requests 20000] [--mesh] [--connections 50]
//   (or deno run -A …). The first five rounds are warm-up and not counted.
export {}; // a module: top-level await
const arg = (name: string, fallback: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const BASE = arg("base", "");
if (!BASE) throw new Error("--base /path/to/tree is required");
const ROUNDS = Number(arg("ab-rounds", "30"));
const REQUESTS = Number(arg("ab-requests", "20000"));
const WARM = Math.min(5, ROUNDS - 1);

type Bench = { measure(requests: number): Promise<number> };
const base = (await import(`${BASE.replace(/\/+$/, "")}/bench/pipeline-js.ts`)) as Bench;
const head = (await import("./pipeline-js.ts")) as Bench;
if (typeof base.measure !== "function") throw new Error(`${BASE}/bench/pipeline-js.ts has no measure(): copy this tree's into it`);

const ratios: number[] = [];
const baseUs: number[] = [];
const headUs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const b = await base.measure(REQUESTS);
  const h = await head.measure(REQUESTS);
  if (round < WARM) continue;
  baseUs.push(b);
  headUs.push(h);
  ratios.push(h / b);
}
const sorted = (v: number[]) => [...v].sort((p, q) => p - q);
const at = (v: number[], f: number) => sorted(v)[Math.min(v.length - 1, Math.floor(v.length * f))];
console.log(
  `base ${at(baseUs, 0.5).toFixed(2)} new ${at(headUs, 0.5).toFixed(2)} µs/req; new/base median ${at(ratios, 0.5).toFixed(3)} ` +
    `(IQR ${at(ratios, 0.25).toFixed(3)}–${at(ratios, 0.75).toFixed(3)}, ${ratios.length} rounds)`,
);
process.exit(0);
