// The fuzzers' oracle for `dietmesh check`: runs checkPaths in a Worker with a time bound per input
// and says what is wrong with the outcome — a throw, no answer in time, an exit code other than
// istioctl analyze's (0 clean, 79 issues found, 65 unreadable input), a failing code without an
// error line, or a problem line that names no file of the input.
import type { CheckReply, CheckRequest } from "./check-worker.ts";
import { EXIT_DATA_ERROR, EXIT_ISSUES_FOUND } from "../../runtime/config/check.ts";

export type Outcome = { kind: "answer"; code: number; lines: string[] } | { kind: "thrown"; stack: string } | { kind: "hang" };

export interface Checker {
  check(files: Record<string, string>, paths: string[], timeoutMs: number): Promise<Outcome>;
  close(): void;
}

export function createChecker(): Checker {
  let worker: Worker | undefined;
  let workerReady: Promise<void> | undefined;
  let nextId = 1;
  // a request posted while the worker's modules still load is not reliably delivered on Bun, so
  // each request waits for the worker's "ready" (the same handshake as runtime/lib/worker-call.ts)
  const start = () => {
    const w = new Worker(new URL("./check-worker.ts", import.meta.url).href, { type: "module" });
    workerReady = new Promise<void>((resolve) => {
      const onReady = (e: MessageEvent) => {
        if (e.data?.ready !== true) return;
        w.removeEventListener("message", onReady);
        resolve();
      };
      w.addEventListener("message", onReady);
    });
    return w;
  };
  return {
    check(files, paths, timeoutMs) {
      worker ??= start();
      const w = worker;
      const ready = workerReady!;
      const id = nextId++;
      return new Promise<Outcome>((resolve) => {
        const done = (outcome: Outcome) => {
          clearTimeout(timer);
          w.removeEventListener("message", onMessage);
          w.removeEventListener("error", onError);
          resolve(outcome);
        };
        const onMessage = (e: MessageEvent<CheckReply>) => {
          if (e.data.id !== id) return;
          done("thrown" in e.data ? { kind: "thrown", stack: e.data.thrown } : { kind: "answer", code: e.data.code, lines: e.data.lines });
        };
        // an error the worker did not catch (thrown outside the awaited chain): the worker is spent
        const onError = (e: ErrorEvent) => {
          e.preventDefault();
          worker = undefined;
          w.terminate();
          done({ kind: "thrown", stack: `uncaught in the worker: ${e.message}` });
        };
        // no answer in time: whatever it is doing, stop it, and use a new worker next time
        const timer = setTimeout(() => {
          worker = undefined;
          w.terminate();
          done({ kind: "hang" });
        }, timeoutMs);
        w.addEventListener("message", onMessage);
        w.addEventListener("error", onError);
        // the time bound covers the worker's start too: a worker that never gets ready is a hang
        void ready.then(() => w.postMessage({ id, files, paths } satisfies CheckRequest));
      });
    },
    close() {
      worker?.terminate();
      worker = undefined;
    },
  };
}

/** what is wrong with an outcome of check on these files (none: ok or errors that name a file) */
export function problemsOf(outcome: Outcome, files: string[], timeoutMs: number): string[] {
  if (outcome.kind === "hang") return [`no answer within ${timeoutMs} ms`];
  if (outcome.kind === "thrown") return [`threw: ${outcome.stack.split("\n").slice(0, 6).join("\n")}`];
  const problems: string[] = [];
  if (![0, EXIT_ISSUES_FOUND, EXIT_DATA_ERROR].includes(outcome.code)) problems.push(`exit code ${outcome.code}`);
  const reported = outcome.lines.filter((l) => /^(Error|Warning|Info) \[/.test(l));
  if (outcome.code !== 0 && !reported.some((l) => l.startsWith("Error ["))) problems.push(`exit code ${outcome.code} without an error line: ${outcome.lines.join(" | ")}`);
  if (outcome.code === 0 && reported.some((l) => l.startsWith("Error ["))) problems.push("an error line, yet exit code 0");
  for (const line of reported) {
    if (!files.some((f) => line.includes(`(${f}`))) problems.push(`names no input file: ${line.slice(0, 300)}`);
  }
  return problems;
}
