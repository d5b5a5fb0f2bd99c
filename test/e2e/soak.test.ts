// The soak (bench/soak/soak.ts) for 60 seconds, as CI runs it: the demo mesh on this runtime at
// 1,000 req/s through the gateway and its mTLS hops, a routing switch every 10 s, certificates that
// live 20 s (every proxy renews three times or more). Asserts what is not timing: no failed request,
// every switch in service on every proxy, every proxy renewed, no process exited, and no growth of
// RSS (over 10 %) or of open fds after warm-up.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { root } from "../support/mesh.ts";

interface Report {
  requests: number;
  failed: number;
  reasons: Record<string, number>;
  switches: number;
  switchesOk: number;
  expectedRenewals: number;
  rotation: { name: string; renewals: number }[];
  processes: { name: string; rssOk: boolean; fdsOk: boolean; rssStartMb: number; rssEndMb: number; fdsStart: number; fdsEnd: number }[];
  problems: string[];
  pass: boolean;
}

test("60 s at 1,000 req/s with config switches and certificate rotation: zero failures, no growth", async () => {
  const soak = runScript(`${root}bench/soak/soak.ts`, ["--seconds", "60", "--rate", "1000", "--switch-every", "10", "--cert-ttl", "20s", "--warmup", "20", "--json"]);
  const code = await Promise.race([soak.exited, new Promise<"late">((r) => setTimeout(() => r("late"), 200_000))]);
  if (code === "late") soak.kill("SIGKILL");
  const output = soak.lines.join("\n");
  const json = soak.lines.findLast((l) => l.startsWith("{\"runtime\""));
  assert.ok(json, `no report (exit ${code}):\n${output.slice(-3000)}`);
  const report = JSON.parse(json!) as Report;
  const summary = output.slice(output.lastIndexOf("soak on"));
  assert.ok(report.requests >= 50_000, summary);
  assert.is(report.failed, 0, `${JSON.stringify(report.reasons)}\n${summary}`);
  assert.ok(report.switches >= 5, summary);
  assert.is(report.switchesOk, report.switches, summary);
  assert.is(report.rotation.length, 8);
  for (const r of report.rotation) assert.ok(r.renewals >= report.expectedRenewals && r.renewals >= 2, `${r.name}: ${r.renewals} renewals\n${summary}`);
  assert.is(report.processes.length, 15);
  for (const p of report.processes) {
    assert.ok(p.rssOk, `${p.name}: RSS ${p.rssStartMb} → ${p.rssEndMb} MB\n${summary}`);
    assert.ok(p.fdsOk, `${p.name}: fds ${p.fdsStart} → ${p.fdsEnd}\n${summary}`);
  }
  assert.equal(report.problems, []);
  assert.ok(report.pass);
  assert.is(code, 0);
});

test.run();
