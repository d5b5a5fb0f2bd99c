// The few Deno APIs dietmesh uses, typed here so one tsconfig (with bun-types) checks both adapters.

export interface DenoServeInfo {
  remoteAddr: { hostname: string; port: number };
}

export interface DenoHttpServer {
  addr: { hostname: string; port: number };
  shutdown(): Promise<void>;
  finished: Promise<void>;
}

export interface DenoNamespace {
  version: { deno: string };
  serve(
    options: { hostname: string; port: number; onListen?: () => void; onError?: (e: unknown) => Response },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
  stat(path: string): Promise<DenoFileInfo & { isDirectory: boolean }>;
  readTextFile(path: string): Promise<string>;
  open(path: string, options: { read: true }): Promise<DenoFile>;
  writeTextFile(path: string, text: string, options?: { mode?: number }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  pid: number;
  makeTempDir(options: { prefix: string }): Promise<string>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  watchFs(paths: string[], options: { recursive: boolean }): AsyncIterable<{ kind: string; paths: string[] }> & { close(): void };
  args: string[];
  env: { get(name: string): string | undefined };
  exit(code: number): never;
  addSignalListener(signal: string, handler: () => void): void;
  memoryUsage(): { rss: number; heapUsed: number; heapTotal: number; external: number };
}

export interface DenoFileInfo {
  dev: number;
  ino: number | null;
  size: number;
  mtime: Date | null;
  ctime: Date | null;
}

export interface DenoFile {
  stat(): Promise<DenoFileInfo>;
  /** bytes read, null at the end */
  read(into: Uint8Array): Promise<number | null>;
  close(): void;
}
