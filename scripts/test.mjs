// The README's test command: type check, then every uvu suite under test/ on Bun and on Deno,
// each file in its own process, two at a time (the machine has two cores). Ends with the line
// "N passed, N failed" that CI reads, since uvu prints only per-process totals.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildExecutable } from "./build-exe.mjs";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith("--"));
const runtimes = (process.env.DIETMESH_TEST_RUNTIMES ?? "bun,deno").split(",");

// every Debian tool a suite runs, installed once before any suite starts: suites run two at a time,
// and two apt-get runs at once fail on dpkg's lock (the suites' own ensure-tools calls then find
// the tool and return)
const tools = spawnSync("bash", [join(root, "scripts/ensure-tools.sh"), "curl", "openssl", "nginx", "h2load", "kubectl", "prometheus", "promtool", "chromium"], { stdio: "inherit" });
if (tools.status !== 0) process.exit(1);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

let files = findTests(join(root, "test"));
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));

let passed = 0;
let failed = 0;
const failures = [];

if (!only.length) {
  const tsc = spawnSync(bin("tsc"), ["--noEmit", "-p", root], { encoding: "utf8" });
  if (tsc.status === 0) { passed++; console.log("ok   typecheck"); }
  else { failed++; failures.push("typecheck"); console.log("FAIL typecheck\n" + tsc.stdout + tsc.stderr); }
}

function command(runtime, file) {
  // "exe": the test itself on Bun, every dietmesh it starts the single executable (see below)
  if (runtime === "bun" || runtime === "exe") return [bin("bun"), [file]];
  return [bin("deno"), ["run", "-A", "--quiet", file]];
}

// The executable pass (issue 14): `npm run build`'s single executable, built into a temp folder,
// runs a subset of the end-to-end suites in place of the TypeScript CLI (test/support/mesh.ts
// `dietmesh()`): sidecar, gateway, mTLS with the CA, HTTPS, resilience. Skipped when files are named.
const EXECUTABLE_SUITES = ["test/e2e/sidecar.test.ts", "test/e2e/mtls.test.ts", "test/e2e/peer-metadata.test.ts", "test/e2e/gateway-https.test.ts", "test/e2e/resilience.test.ts"];
let executable;
if (!only.length && process.env.DIETMESH_TEST_EXECUTABLE_PASS !== "0") {
  const dir = mkdtempSync(join(tmpdir(), "dietmesh-exe-"));
  const build = buildExecutable(join(dir, "dietmesh"));
  if (build.status === 0) { executable = join(dir, "dietmesh"); passed++; console.log("ok   build the single executable"); }
  else { failed++; failures.push("build the single executable"); console.log("FAIL build the single executable\n" + build.stdout + build.stderr); }
}

// the suites' process groups still running: a runner stopped by a signal stops them too (being
// detached, they are out of the terminal's foreground group that Ctrl-C reaches)
const groups = new Set();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const pid of groups) { try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ } }
    process.exit(130);
  });
}

function runOne(runtime, file) {
  return new Promise((resolve) => {
    const [cmd, argv] = command(runtime, file);
    const exe = runtime === "exe" ? { DIETMESH_TEST_EXECUTABLE: executable } : {};
    // its own process group: a suite that crashes before its after-hook (a missing tool, a set-up
    // error) leaves the proxies and peers it started running; they are killed with the group when
    // the suite ends, so they neither hold CPU nor ports for the suites after it
    // its own temp folder (TMPDIR: both runtimes' and the tools' temp files go there), removed when
    // the suite ends: suites make config folders, certificates and sockets there and many never
    // remove them, and thousands of entries left in /tmp slowed every later Bun start that resolves
    // a module from it (~5 ms per cold start, docs/performance.md)
    const temp = mkdtempSync(join(tmpdir(), "dietmesh-suite-"));
    const child = spawn(cmd, argv, { cwd: root, detached: true, env: { ...process.env, TMPDIR: temp, DIETMESH_RUNTIME: runtime === "exe" ? "bun" : runtime, ...exe } });
    groups.add(child.pid);
    const killGroup = () => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* the group is empty */ } };
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const limit = setTimeout(() => { out += "\n(test file timed out after 240 s)"; killGroup(); }, 240_000);
    child.on("close", (code) => {
      clearTimeout(limit);
      killGroup();
      groups.delete(child.pid);
      rmSync(temp, { recursive: true, force: true });
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      // uvu's Total counts the tests that ran; skipped ones are reported beside it, not in it
      let bad = Math.max(0, total - ok);
      if (code !== 0 && bad === 0) bad = 1; // crashed before or after its summary
      resolve({ runtime, file, ok, bad, out, code });
    });
  });
}

// Files that load the whole machine (the soak: sixteen processes under steady load) run after the
// rest, one at a time, so neither they nor the suites beside them fail for want of CPU.
const exclusive = (file) => /soak/.test(file);
const jobs = [];
for (const runtime of runtimes) for (const file of files) if (!exclusive(file)) jobs.push([runtime, file]);
if (executable) for (const suite of EXECUTABLE_SUITES) jobs.push(["exe", join(root, suite)]);
const alone = [];
for (const runtime of runtimes) for (const file of files) if (exclusive(file)) alone.push([runtime, file]);
const concurrency = Number(process.env.DIETMESH_TEST_CONCURRENCY ?? 2);
let next = 0;
async function worker(queue = jobs) {
  while (next < queue.length) {
    const [runtime, file] = queue[next++];
    const started = Date.now();
    const r = await runOne(runtime, file);
    passed += r.ok;
    failed += r.bad;
    const name = `${runtime.padEnd(4)} ${relative(root, file)}`;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (r.bad) { failures.push(name); console.log(`FAIL ${name} (${r.ok} passed, ${r.bad} failed, ${secs}s)\n${r.out}`); }
    else console.log(`ok   ${name} (${r.ok} passed, ${secs}s)`);
  }
}
await Promise.all(Array.from({ length: concurrency }, () => worker()));
next = 0;
await worker(alone);
if (executable) rmSync(join(executable, ".."), { recursive: true, force: true });
if (failures.length) console.log("\nfailed:\n  " + failures.join("\n  "));
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
