// A raw HTTP/1.1 server for the client's tests (test/platform/), on node:net so that it runs on
// both runtimes and so tests can see the wire: every connection accepted, every request head as
// received, bodies chunk by chunk, and responses written byte for byte. Not used by the product.
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { latin1 } from "./bytes.ts";
import { headEnd as findHeadEnd } from "../../exchange/http1/head-scan.ts";
import { CHUNKED_DONE, ChunkedDecoder } from "../../exchange/http1/chunked.ts";

export interface TestRequest {
  /** 1-based number of the connection it came on */
  readonly connection: number;
  readonly method: string;
  readonly target: string;
  /** the head exactly as received, without the final CRLFCRLF */
  readonly rawHead: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** the first value of a header, by case-insensitive name */
  header(name: string): string | undefined;
  /** the next body chunk as it arrived (de-chunked), or null at the end */
  read(): Promise<Uint8Array | null>;
  /** the whole body */
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
}

export interface TestSocket {
  readonly id: number;
  /** resolves once the bytes are handed to the kernel */
  write(data: string | Uint8Array): Promise<void>;
  /** a complete response with Content-Length */
  respond(status: number, headers?: Array<[string, string]>, body?: string | Uint8Array): Promise<void>;
  end(): void;
  destroy(): void;
}

export type TestHandler = (request: TestRequest, socket: TestSocket) => void | Promise<void>;

export interface TestServer {
  readonly port: number;
  /** "127.0.0.1:port" */
  readonly address: string;
  /** connections accepted so far */
  readonly accepted: number;
  /** connections open now */
  readonly open: number;
  /** the most connections that were open at once */
  readonly maxOpen: number;
  readonly requests: TestRequest[];
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Body {
  chunks: Uint8Array[] = [];
  ended = false;
  waiter: (() => void) | null = null;

  push(chunk: Uint8Array | null): void {
    if (chunk) this.chunks.push(chunk.slice());
    else this.ended = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  async read(): Promise<Uint8Array | null> {
    while (!this.chunks.length && !this.ended) await new Promise<void>((r) => (this.waiter = r));
    return this.chunks.shift() ?? null;
  }
}

function makeRequest(connection: number, rawHead: string, body: Body): TestRequest {
  const lines = rawHead.split("\r\n");
  const [method, target] = lines[0].split(" ");
  const headers = lines.slice(1).map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon), line.slice(colon + 1).trim()] as const;
  });
  const request: TestRequest = {
    connection,
    method,
    target,
    rawHead,
    headers,
    header: (name) => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
    read: () => body.read(),
    async bytes() {
      const parts: Uint8Array[] = [];
      for (let c = await body.read(); c; c = await body.read()) parts.push(c);
      const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.byteLength;
      }
      return out;
    },
    text: async () => decoder.decode(await request.bytes()),
  };
  return request;
}

function makeSocket(id: number, socket: Socket): TestSocket {
  const write = (data: string | Uint8Array) =>
    new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.write(typeof data === "string" ? encoder.encode(data) : data, () => resolve());
    });
  return {
    id,
    write,
    respond(status, headers = [], body = "") {
      const bytes = typeof body === "string" ? encoder.encode(body) : body;
      let head = `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Status"}\r\n`;
      for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
      head += `content-length: ${bytes.byteLength}\r\n\r\n`;
      const out = new Uint8Array(head.length + bytes.byteLength);
      out.set(encoder.encode(head));
      out.set(bytes, head.length);
      return write(out);
    },
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

/** reads requests off one connection, one after another, and runs the handler for each in turn */
function serveConnection(id: number, socket: Socket, handler: TestHandler, log: TestRequest[]): void {
  const testSocket = makeSocket(id, socket);
  let buffer = new Uint8Array(0);
  let body: Body | null = null;
  let remaining = 0;
  let chunked: ChunkedDecoder | null = null;
  let chain = Promise.resolve();
  const sink = { onBodyBytes: (bytes: Uint8Array) => body!.push(bytes) };

  function process(): void {
    for (;;) {
      if (!body) {
        const end = findHeadEnd(buffer, 0, buffer.byteLength);
        if (end < 0) return;
        const rawHead = latin1(buffer, 0, end - 4);
        buffer = buffer.subarray(end);
        body = new Body();
        const request = makeRequest(id, rawHead, body);
        log.push(request);
        const length = request.header("content-length");
        chunked = request.header("transfer-encoding")?.toLowerCase() === "chunked" ? new ChunkedDecoder() : null;
        remaining = chunked ? 0 : Number(length ?? 0);
        chain = chain.then(() => handler(request, testSocket)).catch(() => void socket.destroy());
        if (!chunked && remaining === 0) {
          body.push(null);
          body = null;
        }
        continue;
      }
      if (!buffer.byteLength) return;
      if (chunked) {
        const used = chunked.decode(buffer, 0, buffer.byteLength, sink);
        if (used < 0) return void socket.destroy();
        buffer = buffer.subarray(used);
        if (chunked.state !== CHUNKED_DONE) return;
      } else {
        const n = Math.min(remaining, buffer.byteLength);
        body.push(buffer.subarray(0, n));
        buffer = buffer.subarray(n);
        remaining -= n;
        if (remaining > 0) return;
      }
      body.push(null);
      body = null;
    }
  }

  socket.on("data", (chunk: Uint8Array) => {
    const joined = new Uint8Array(buffer.byteLength + chunk.byteLength);
    joined.set(buffer);
    joined.set(chunk, buffer.byteLength);
    buffer = joined;
    process();
  });
  socket.on("error", () => {});
  socket.on("close", () => body?.push(null));
}

export async function startTestServer(handler: TestHandler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const requests: TestRequest[] = [];
  let accepted = 0;
  let maxOpen = 0;
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    accepted++;
    sockets.add(socket);
    maxOpen = Math.max(maxOpen, sockets.size);
    // a connection stops counting once the client has closed its side (FIN: "end"), as an
    // upstream's connection limit would see it, or when it is gone altogether
    socket.on("end", () => sockets.delete(socket));
    socket.on("close", () => sockets.delete(socket));
    serveConnection(accepted, socket, handler, requests);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    get maxOpen() {
      return maxOpen;
    },
    requests,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A loopback port nothing listens on, checked by binding it once. Taken below the kernel's
 * ephemeral range, where no port-0 listener of a test running beside this one can land on it
 * later: a port released back into that range was once taken by a concurrent test's server, which
 * answered where a refused connection was expected (hop-flags, CI of 2026-12-06). Tests bind only
 * port 0, so nothing else takes a port from below the range.
 */
export async function closedPort(): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; low > 11_000 && attempt < 50; attempt++) {
    const port = await bindAndRelease(low - 1 - Math.floor(Math.random() * 10_000));
    if (port !== undefined) return port;
  }
  // no room below the range (or all taken): an OS-chosen port, released
  return (await bindAndRelease(0))!;
}

/** binds port on loopback (0: the OS chooses) and releases it: the port bound, or undefined when taken */
async function bindAndRelease(port: number): Promise<number | undefined> {
  const server = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!bound) return undefined;
  const chosen = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return chosen;
}

/** the first port of the kernel's ephemeral range (Linux's default 32768; 0 where it cannot be read) */
function ephemeralLow(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}
