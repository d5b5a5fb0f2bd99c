// Platform adapter for Bun.
import type { BigIntStats } from "node:fs";
import type { FileIdentity, Platform, ServeOptions, Server } from "./types.ts";
import { isWebSocketUpgrade } from "./websocket-upgrade.ts";
import { bunUpstream } from "./bun-upstream.ts";
import { bunServeSockets } from "./bun-listen.ts";
import { serveHttp2 } from "./http2-listen.ts";
import { connectHttp2 } from "./on-first-use.ts";
import { bunParseYaml } from "./bun-yaml.ts";

// node:fs, node:fs/promises, node:os and node:path are loaded on first use: imported at start they
// cost ~5 ms of every process's start (issue 16: a mesh in process given its config as objects
// never touches a file).
type FsPromises = typeof import("node:fs/promises");
let fsPromises: Promise<FsPromises> | undefined;
const files = (): Promise<FsPromises> => (fsPromises ??= import("node:fs/promises"));

function serve(options: ServeOptions): Server {
  const webSocket = options.webSocket;
  const server = Bun.serve({
    hostname: options.hostname,
    port: options.port,
    // a proxy streams bodies of any size; the app behind it decides what is too large
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 60,
    fetch(request, srv) {
      // an upgrade the endpoint takes is answered by Bun itself (101, then the websocket handlers)
      if (webSocket && isWebSocketUpgrade(request) && webSocket.accepts(request) && srv.upgrade(request, { data: undefined })) return undefined as unknown as Response;
      const ip = srv.requestIP(request);
      return options.handler(request, { remoteAddress: ip?.address ?? "", remotePort: ip?.port ?? 0 });
    },
    error: options.onError,
    websocket: {
      open(ws) {
        webSocket?.onOpen?.((message) => void ws.send(message));
      },
      message(ws, message) {
        webSocket?.onMessage(typeof message === "string" ? message : new Uint8Array(message), (reply) => void ws.send(reply));
      },
    },
  });
  return {
    hostname: options.hostname,
    port: server.port ?? options.port,
    async stop(force = false) {
      await server.stop(force);
    },
  };
}

function watchDir(dir: string, onChange: (name: string | undefined) => void) {
  try {
    const watcher = process.getBuiltinModule("node:fs").watch(dir, { persistent: false }, (_event, name) => onChange(name == null ? undefined : String(name)));
    watcher.on("error", () => {}); // the folder went away: nothing more to report
    return { close: () => watcher.close() };
  } catch {
    return { close() {} }; // no such folder: the config load reports it
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await (await files()).stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** a file's identity (config/files.ts): device and inode, times and size */
function identityOf(s: BigIntStats): FileIdentity {
  return { id: `${s.dev}:${s.ino}`, stamp: `${s.mtimeNs}:${s.ctimeNs}:${s.size}`, modifiedMs: Number(s.mtimeMs) };
}

/** the text and the identity from one open file: a rename between two calls cannot mix them */
async function readTextFileWithIdentity(path: string) {
  const file = await (await files()).open(path, "r");
  try {
    const s = await file.stat({ bigint: true });
    // sized by the stat, grown if the file grew since (one read for a file that did not;
    // FileHandle.readFile took 2-3 × as long)
    let bytes = Buffer.allocUnsafe(Number(s.size) + 1);
    let length = 0;
    for (;;) {
      if (length === bytes.length) bytes = Buffer.concat([bytes, Buffer.allocUnsafe(bytes.length)]);
      const { bytesRead } = await file.read(bytes, length, bytes.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const text = bytes.toString("utf8", 0, length);
    return { text, identity: identityOf(s) };
  } finally {
    await file.close();
  }
}

/**
 * In a single executable (`bun build --compile`) every module's import.meta.url is the
 * executable's own virtual file, file:///$bunfs/root/<name>, so a path relative to a module finds
 * nothing; the other entry points are embedded by their path from the entry points' common folder
 * (runtime/, as scripts/build-exe.mjs builds it). From the sources this is undefined.
 */
const EMBEDDED_ROOT = import.meta.url.startsWith("file:///$bunfs/") ? new URL("./", import.meta.url) : undefined;

export const platform: Platform = {
  name: "bun",
  runtimeVersion: Bun.version,
  embeddedModule: (path) => (EMBEDDED_ROOT ? new URL(path, EMBEDDED_ROOT) : undefined),
  serve,
  serveSockets: bunServeSockets,
  serveHttp2,
  connectHttp2,
  nativeMtlsListener: true,
  readTextFile: async (path) => (await files()).readFile(path, "utf8"),
  readTextFileWithIdentity,
  fileIdentity: async (path) => identityOf(await (await files()).stat(path, { bigint: true })),
  async writeTextFile(path, text, options) {
    const { writeFile, rename } = await files();
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, text, { mode: options?.mode });
    await rename(tmp, path);
  },
  mkdir: async (path) => void (await (await files()).mkdir(path, { recursive: true })),
  async makeTempDir(prefix) {
    const { tmpdir } = await import("node:os");
    return (await files()).mkdtemp(`${tmpdir().replace(/\/+$/, "")}/${prefix}`);
  },
  remove: async (path) => (await files()).rm(path, { recursive: true, force: true }),
  readDir: async (path) => (await (await files()).readdir(path)).sort(),
  isDirectory,
  watchDir,
  args: () => Bun.argv.slice(2),
  env: (name) => Bun.env[name],
  exit: (code) => process.exit(code),
  onSignal: (signal, handler) => void process.on(signal, handler),
  memoryRss: () => process.memoryUsage.rss(),
  async collectGarbage() {
    Bun.gc(true);
    // loaded on demand: only a process asked for a heap report needs JSC's counters
    const { heapStats } = await import("bun:jsc");
    const stats = heapStats();
    return { collected: true, rss: process.memoryUsage.rss(), heapUsed: stats.heapSize, objects: stats.objectTypeCounts };
  },
  fetchClient: bunUpstream,
  parseYaml: bunParseYaml,
  collectNow: () => Bun.gc(true),
  shrinkNow: () => Bun.shrink(),
  cpuTimeMs: () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  },
};
