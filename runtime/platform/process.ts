// Child processes for the demo launcher and the end-to-end tests: run a TypeScript entry point on
// the same runtime we are on, read its output line by line, wait for a line, stop it.
// node:child_process behaves the same on Bun and Deno, so one implementation serves both.
import { spawn, type ChildProcess } from "node:child_process";

export interface ChildOptions {
  env?: Record<string, string>;
  /** also print the child's output with this prefix */
  echo?: string;
  cwd?: string;
}

export interface Child {
  readonly pid: number;
  /** every line printed so far (stdout and stderr) */
  readonly lines: string[];
  /** resolves with the first line (past or future) that matches, rejects at the deadline or exit */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGINT"): void;
}

function runtimeCommand(): { cmd: string; pre: string[] } {
  const g = globalThis as { Bun?: unknown; Deno?: { execPath(): string } };
  if (g.Bun) return { cmd: process.execPath, pre: [] };
  // leak hunting (DIETMESH_DEBUG_GC, admin.ts): V8 forces a collection only when asked to expose it
  const gc = process.env.DIETMESH_DEBUG_GC === "1" ? ["--v8-flags=--expose-gc"] : [];
  return { cmd: g.Deno!.execPath(), pre: ["run", "-A", "--quiet", ...gc] };
}

function wrap(child: ChildProcess, options: ChildOptions): Child {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const push = (line: string) => {
      lines.push(line);
      if (options.echo !== undefined) console.log(`${options.echo}${line}`);
      for (let i = waiters.length - 1; i >= 0; i--) {
        const m = line.match(waiters[i].pattern);
        if (m) waiters.splice(i, 1)[0].resolve(m);
      }
  };
  const follow = (stream: NodeJS.ReadableStream | null) => {
    let rest = "";
    stream?.on("data", (chunk: Buffer) => {
      rest += chunk.toString("utf8");
      let nl: number;
      while ((nl = rest.indexOf("\n")) !== -1) {
        push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    });
    // the last line may have no newline; it counts once the stream ends
    stream?.on("end", () => rest && push(rest));
  };
  follow(child.stdout);
  follow(child.stderr);
  // "close" comes after both streams ended, so every line is in by then
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    pid: child.pid ?? -1,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      for (const line of lines) {
        const m = line.match(pattern);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${lines.join("\n")}`)), timeoutMs);
        waiters.push({ pattern, resolve: (m) => { clearTimeout(timer); resolve(m); } });
        exited.then((code) => { clearTimeout(timer); reject(new Error(`exited (${code}) before ${pattern}; output:\n${lines.join("\n")}`)); });
      });
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** runs a TypeScript file on the current runtime (bun FILE / deno run -A FILE) */
export function runScript(file: string, args: string[], options: ChildOptions = {}): Child {
  const { cmd, pre } = runtimeCommand();
  return runCommand(cmd, [...pre, file, ...args], options);
}

export function runCommand(cmd: string, args: string[], options: ChildOptions = {}): Child {
  const child = spawn(cmd, args, { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  return wrap(child, options);
}
