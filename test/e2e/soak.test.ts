// The soak (bench/soak/soak.ts) for 60 seconds, as CI runs it: the demo mesh on this runtime at
// 500 req/s through the gateway and its mTLS hops, a routing switch every 10 s, certificates that
// live 20 s (every proxy renews three times or more). Asserts what is not timing: no failed request,
// every switch in service on every proxy, every proxy renewed, no process exited, and no growth of
// open fds or of RSS (over 20 % here, see below) after warm-up.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { root } from "../support/mesh.ts";

// npm test runs this file on Bun and on Deno at the same time, beside other suites, on 2 cores:
// two meshes of 15 processes at 500 req/s each make the 1,000 req/s of `npm run soak`
const RATE = 500;
// RSS growth allowed between 20 s and 60 s (`npm run soak` keeps 10 % over 10 min). Measured
// (docs/performance.md, "Soak"): a 60-s run still warms up — Bun's sidecars grew up to +10.5 % as
// each routing scenario's code is compiled on its first switch (heap after a forced GC: compiled
// code and strings up, then flat; over 240 s the heap was flat and RSS grew ≤ 3.5 %), and a Deno
// proxy's V8 young generation can grow ~25 MB in one step under load (bounded; not a leak). At 20 %
// this catches gross growth (about 1 KB kept per request, or 2 MB per reload or renewal); slow
// retention is for `npm run soak`'s 10 minutes and for the WeakRef tests (test/model/table-retention).
const MAX_RSS_GROWTH = 20;

interface Report {
  requests: number;
  failed: number;
  reasons: Record<string, number>;
  switches: number;
  switchesOk: number;
  expectedRenewals: number;
  rotation: { name: string; renewals: number }[];
  processes: { name: string; rssOk: boolean; fdsOk: boolean; connectionsOk: boolean; maxConnections: number; rssStartMb: number; rssEndMb: number; fdsStart: number; fdsEnd: number }[];
  problems: string[];
  pass: boolean;
}

let report: Report | undefined;
let summary = "";
let code: number | null | "late";

test.before(async () => {
  const soak = runScript(`${root}bench/soak/soak.ts`, ["--seconds", "60", "--rate", String(RATE), "--switch-every", "10", "--cert-ttl", "20s", "--warmup", "20", "--sample-every", "2", "--max-rss-growth", String(MAX_RSS_GROWTH), "--json"]);
  // deadlines, cleared once the soak has ended (a pending timer would keep this file running)
  let timer: ReturnType<typeof setTimeout> | undefined;
  code = await Promise.race([soak.exited, new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 210_000)))]);
  clearTimeout(timer);
  if (code === "late") {
    soak.kill("SIGTERM"); // the soak stops its mesh on SIGTERM
    await Promise.race([soak.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
    clearTimeout(timer);
    soak.kill("SIGKILL");
  }
  const output = soak.lines.join("\n");
  const json = soak.lines.findLast((l) => l.startsWith("{\"runtime\""));
  // no throw here: uvu would end the file with nothing failed; each test asserts the report instead
  if (json) report = JSON.parse(json) as Report;
  summary = json ? output.slice(output.lastIndexOf("soak on")) : `no report (exit ${code}):\n${output.slice(-3000)}`;
});

test(`60 s at ${RATE} req/s with config switches and certificate rotation: zero failures, every switch and renewal, no fd growth`, () => {
  assert.ok(report, summary);
  if (!report) return;
  assert.ok(report.requests >= RATE * 55, summary);
  assert.is(report.failed, 0, `${JSON.stringify(report.reasons)}\n${summary}`);
  assert.ok(report.switches >= 5, summary);
  assert.is(report.switchesOk, report.switches, summary);
  assert.is(report.rotation.length, 8);
  for (const r of report.rotation) assert.ok(r.renewals >= report.expectedRenewals && r.renewals >= 2, `${r.name}: ${r.renewals} renewals\n${summary}`);
  assert.is(report.processes.length, 15);
  for (const p of report.processes) assert.ok(p.fdsOk, `${p.name}: fds other than connections ${p.fdsStart} → ${p.fdsEnd}\n${summary}`);
  for (const p of report.processes) assert.ok(p.connectionsOk, `${p.name}: ${p.maxConnections} connections\n${summary}`);
  assert.equal(report.problems.filter((p) => !/ RSS /.test(p)), [], summary);
});

// issue 15: the growth once seen here (10–20 % between 20 s and 60 s) followed reloads and renewals;
// the forced-GC heap is flat over reloads and renewals now (bench/soak/retention.ts, test/model/table-retention)
// apps (the demo's stand-ins for workloads) are reported, not judged: bench/soak/soak.ts says why
test(`no proxy's RSS grows ${MAX_RSS_GROWTH} % or more after warm-up`, () => {
  assert.ok(report, summary);
  if (!report) return;
  for (const p of report.processes.filter((p) => !p.name.startsWith("app "))) assert.ok(p.rssOk, `${p.name}: RSS ${p.rssStartMb} → ${p.rssEndMb} MB\n${summary}`);
  assert.ok(report.pass, summary);
  assert.is(code, 0);
});

test.run();
