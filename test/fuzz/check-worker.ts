// Runs `dietmesh check`'s core (checkPaths) on an in-memory file tree inside a Worker, so that the
// fuzzer can stop an input that never finishes (a synchronous loop included) by terminating the
// worker, and tell a throw apart from an answer.
import { checkPaths } from "../../runtime/config/check.ts";
import { memoryIO } from "../config/memory-io.ts";

export interface CheckRequest {
  id: number;
  files: Record<string, string>;
  paths: string[];
}

export type CheckReply = { id: number; code: number; lines: string[] } | { id: number; thrown: string };

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<CheckRequest>) => void) | null; postMessage(m: CheckReply | { ready: true }): void };
scope.onmessage = async (event) => {
  const { id, files, paths } = event.data;
  try {
    const lines: string[] = [];
    const code = await checkPaths(paths, memoryIO(files), (l) => lines.push(l));
    scope.postMessage({ id, code, lines });
  } catch (error) {
    scope.postMessage({ id, thrown: (error as Error)?.stack ?? String(error) });
  }
};
// requests are posted only after this (see checker.ts)
scope.postMessage({ ready: true });
