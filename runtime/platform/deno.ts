// Platform adapter for Deno.
import type { FileIdentity, Platform, ServeOptions, Server } from "./types.ts";
import type { DenoFileInfo, DenoNamespace } from "./deno-types.ts";
import { denoUpstream } from "./deno-upstream.ts";
import { isWebSocketUpgrade } from "./websocket-upgrade.ts";
import { denoServeSockets } from "./deno-listen.ts";
import { serveHttp2 } from "./http2-listen.ts";
import { connectHttp2 } from "./on-first-use.ts";

const D = (globalThis as unknown as { Deno: DenoNamespace }).Deno;

function serve(options: ServeOptions): Server {
  const server = D.serve(
    {
      hostname: options.hostname,
      port: options.port,
      onListen() {},
      onError: options.onError,
    },
    (request, info) => {
      const webSocket = options.webSocket;
      if (webSocket && isWebSocketUpgrade(request) && webSocket.accepts(request)) {
        const { socket, response } = D.upgradeWebSocket(request);
        socket.binaryType = "arraybuffer";
        const send = (message: string | Uint8Array) => socket.send(message as string | Uint8Array<ArrayBuffer>);
        socket.onopen = () => webSocket.onOpen?.(send);
        socket.onmessage = (event) => webSocket.onMessage(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer), send);
        return response;
      }
      return options.handler(request, { remoteAddress: info.remoteAddr.hostname, remotePort: info.remoteAddr.port });
    },
  );
  return {
    hostname: options.hostname,
    port: server.addr.port,
    async stop(force = false) {
      if (force) {
        // Deno has no "close active connections" switch: abort-free shutdown is the closest.
        server.shutdown();
        return;
      }
      await server.shutdown();
    },
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await D.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** a file's identity (config/files.ts): device and inode, times and size */
function identityOf(s: DenoFileInfo): FileIdentity {
  const time = (d: Date | null) => d?.getTime() ?? "";
  return { id: `${s.dev}:${s.ino}`, stamp: `${time(s.mtime)}:${time(s.ctime)}:${s.size}`, modifiedMs: s.mtime?.getTime() ?? 0 };
}

/** the text and the identity from one open file: a rename between two calls cannot mix them */
async function readTextFileWithIdentity(path: string) {
  const file = await D.open(path, { read: true });
  try {
    const s = await file.stat();
    // sized by the stat, grown if the file grew since (one read for a file that did not)
    let bytes = new Uint8Array(s.size + 1);
    let length = 0;
    for (;;) {
      if (length === bytes.length) {
        const larger = new Uint8Array(bytes.length * 2);
        larger.set(bytes);
        bytes = larger;
      }
      const n = await file.read(bytes.subarray(length));
      if (n === null) break;
      length += n;
    }
    // as Deno.readTextFile: a byte-order mark stays in the text
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes.subarray(0, length));
    return { text, identity: identityOf(s) };
  } finally {
    file.close();
  }
}

export const platform: Platform = {
  name: "deno",
  runtimeVersion: D.version.deno,
  // dietmesh's single executable is Bun's; on Deno the config is loaded in process (config-worker.ts)
  embeddedModule: () => undefined,
  serve,
  serveSockets: denoServeSockets,
  serveHttp2,
  connectHttp2,
  nativeMtlsListener: false,
  readTextFile: (path) => D.readTextFile(path),
  readTextFileWithIdentity,
  fileIdentity: async (path) => identityOf(await D.stat(path)),
  async writeTextFile(path, text, options) {
    const tmp = `${path}.${D.pid}.tmp`;
    await D.writeTextFile(tmp, text, { mode: options?.mode });
    await D.rename(tmp, path);
  },
  mkdir: (path) => D.mkdir(path, { recursive: true }),
  makeTempDir: (prefix) => D.makeTempDir({ prefix }),
  remove: (path) => D.remove(path, { recursive: true }).catch(() => {}),
  async readDir(path) {
    const names: string[] = [];
    for await (const entry of D.readDir(path)) names.push(entry.name);
    return names.sort();
  },
  isDirectory,
  watchDir(dir, onChange) {
    let watcher: ReturnType<DenoNamespace["watchFs"]>;
    try {
      watcher = D.watchFs([dir], { recursive: false });
    } catch {
      return { close() {} }; // no such folder: the config load reports it
    }
    void (async () => {
      try {
        for await (const event of watcher) for (const path of event.paths) onChange(path.slice(path.lastIndexOf("/") + 1) || undefined);
      } catch {
        // closed
      }
    })();
    return { close: () => { try { watcher.close(); } catch { /* already closed */ } } };
  },
  args: () => [...D.args],
  env: (name) => D.env.get(name),
  exit: (code) => D.exit(code),
  onSignal: (signal, handler) => D.addSignalListener(signal, handler),
  memoryRss: () => D.memoryUsage().rss,
  async collectGarbage() {
    // V8 offers a forced collection only to a process started with --v8-flags=--expose-gc
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const usage = D.memoryUsage();
    return { collected: gc !== undefined, rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external };
  },
  fetchClient: denoUpstream,
};
