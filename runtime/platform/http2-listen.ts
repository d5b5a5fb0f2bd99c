// The h2c listener (HTTP/2 with prior knowledge) on node:http2, which Bun and Deno both implement:
// each stream becomes an H2ServerStream (head, body as a web stream with backpressure, trailers),
// and the answer goes back with its trailers. stop() sends GOAWAY on every connection, lets the
// streams in flight finish, and resolves once all connections are closed (force: at once).
// http2Handoff serves the same way connections another listener accepted and recognised as h2c.
// With limits, a stream whose header block is over them is reset before it is handed on, and one
// whose trailer block is over them when that arrives (http2-head-limits.ts); limits.overflowed
// hears of each.
import type * as NodeHttp2 from "node:http2";
import type { Duplex } from "node:stream";
import type { Socket } from "node:net";
import type { ConnInfo, H2Head, H2HeadLimits, H2ServeOptions, SocketServer } from "./types.ts";
import type { ByteChannel } from "../exchange/types.ts";
import { h2BodyStream, sendBody } from "./http2-body.ts";
import { closeAfterGoawayFrame } from "./http2-goaway.ts";
import { fieldsOf, headBlockCheck, nodeHeaderOptions, TOO_MANY_HEADERS } from "./http2-head-limits.ts";

// node:http2 loads on first use, not with the platform: it is ~11 ms of the library's cold start on
// Bun (docs/performance.md, "The mesh in process"), where a mesh may never speak HTTP/2
// node:stream's Duplex (for handed-over connections) with it: node:http2 needs node's streams anyway
let loaded: typeof NodeHttp2 | undefined;
let DuplexClass: typeof Duplex | undefined;
export async function loadHttp2(): Promise<typeof NodeHttp2> {
  DuplexClass ??= (await import("node:stream")).Duplex;
  return (loaded ??= await import("node:http2"));
}

export async function serveHttp2(options: H2ServeOptions): Promise<SocketServer> {
  const { server, sessions } = h2Server(await loadHttp2(), options.onStream, options.limits);
  const listening: SocketServer = {
    hostname: options.hostname,
    port: options.port,
    connections: () => sessions.size,
    stop(force = false) {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) force ? session.destroy() : session.close();
      });
    },
  };
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({ ...listening, port: typeof address === "object" && address ? address.port : options.port });
    });
  });
}

/** a node:http2 server (no socket of its own needed) whose streams go to onStream; limits: see http2-head-limits.ts */
function h2Server(http2: typeof NodeHttp2, onStream: H2ServeOptions["onStream"], limits?: H2HeadLimits) {
  const sessions = new Set<NodeHttp2.ServerHttp2Session>();
  // streams per connection as Envoy's default; node's header limits widened to ours, which decide
  const node = limits && nodeHeaderOptions(limits);
  const overLimits = limits && headBlockCheck(limits);
  const server = http2.createServer({
    ...(node && { maxHeaderListPairs: node.maxHeaderListPairs }),
    settings: { maxConcurrentStreams: 2147483647, ...(node && { maxHeaderListSize: node.maxHeaderListSize }) },
  });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {}); // a broken connection ends its streams; nothing to report here
    closeAfterGoawayFrame(session); // a client's GOAWAY must not crash Deno (http2-goaway.ts)
    (session.socket as unknown as Handed | undefined)?.[ON_SESSION]?.(session);
  });
  // destroy with an error, not close(code): Bun 1.4's close(code) on a stream the client has
  // ended sends an empty DATA frame, not RST_STREAM
  const refuse = (stream: NodeHttp2.ServerHttp2Stream) => {
    limits?.overflowed?.("http2");
    stream.destroy(TOO_MANY_HEADERS);
  };
  server.on("stream", (stream: NodeHttp2.ServerHttp2Stream, headers: NodeHttp2.IncomingHttpHeaders, _flags: number, rawHeaders?: string[]) => {
    stream.on("error", () => {}); // a reset by the client: the response body is cancelled (sendBody)
    if (overLimits?.(rawHeaders ?? fieldsOf(headers))) return refuse(stream);
    const socket = stream.session?.socket as (Socket & Handed) | undefined;
    // a handed-over connection carries the listener's ConnInfo; a socket of our own has its address
    const base = socket?.[CONN];
    const conn: ConnInfo = base ?? { remoteAddress: socket?.remoteAddress ?? "", remotePort: socket?.remotePort ?? 0, localAddress: socket?.localAddress, localPort: socket?.localPort };
    const ended = stream.endAfterHeaders;
    let trailers: H2Head | undefined;
    // a trailer block is held to the same limits, on its own (http2-head-limits.ts): over them, the
    // stream is reset before its body ends, so what was forwarded is aborted, not completed
    if (!ended) {
      stream.once("trailers", (t: NodeHttp2.IncomingHttpHeaders, _flags: number, raw?: string[]) => {
        if (overLimits?.(raw ?? fieldsOf(t))) refuse(stream);
        else trailers = plain(t);
      });
    }
    const requestTrailers = ended ? Promise.resolve(undefined) : new Promise<H2Head | undefined>((resolve) => {
      stream.once("end", () => resolve(trailers));
      stream.once("close", () => resolve(trailers));
    });
    let answered = false;
    onStream(
      {
        head: plain(headers),
        body: ended ? null : h2BodyStream(stream, () => new Error("stream reset by the client")),
        trailers: requestTrailers,
        respond(head, body, responseTrailers) {
          if (answered || stream.destroyed || stream.closed) return void body?.cancel().catch(() => {});
          answered = true;
          const endStream = !body && !responseTrailers;
          try {
            stream.respond(head, { endStream, waitForTrailers: !!responseTrailers });
          } catch {
            // a header node:http2 refuses (the glue removes those it knows): the client gets a reset, not a hang
            stream.close(0x2 /* INTERNAL_ERROR */);
            return void body?.cancel().catch(() => {});
          }
          if (!endStream) void sendBody(stream, body, responseTrailers);
        },
      },
      conn,
    );
  });
  return { server, sessions };
}

// what a handed-over connection's Duplex carries (node's session.socket forwards property reads
// to it): the listener's ConnInfo, and who wants its session
const CONN = "dietmeshConn";
const ON_SESSION = "dietmeshOnSession";
interface Handed {
  [CONN]?: ConnInfo;
  [ON_SESSION]?: (session: NodeHttp2.ServerHttp2Session) => void;
}

/**
 * HTTP/2 on connections another listener accepted: the HTTP/1.1 server hands over a connection
 * whose first bytes are the client preface (h2c with prior knowledge on an HTTP port, as Envoy's
 * AUTO codec), as a ByteChannel with those bytes still to be read. Each becomes a node:http2
 * session through a Duplex; stop() on one sends GOAWAY and lets its streams finish.
 */
export function http2Handoff(onStream: H2ServeOptions["onStream"], limits?: H2HeadLimits): { accept(channel: ByteChannel, conn: ConnInfo): { stop(): void } } {
  // the module is loading from the listener's creation on; a connection handed over before it is
  // in (only right after start) waits for it
  let server: NodeHttp2.Http2Server | undefined;
  const ready = loadHttp2().then((http2) => (server = h2Server(http2, onStream, limits).server));
  return {
    accept(channel, conn) {
      let session: NodeHttp2.ServerHttp2Session | undefined;
      let stopped = false;
      // the channel keeps what arrives until the Duplex attaches to it
      const serve = (to: NodeHttp2.Http2Server) => {
        const duplex = duplexOf(channel) as Duplex & Handed;
        duplex[CONN] = conn;
        duplex[ON_SESSION] = (s) => {
          session = s;
          if (stopped) s.close();
        };
        to.emit("connection", duplex);
      };
      if (server) serve(server);
      else void ready.then(serve);
      return {
        stop() {
          stopped = true;
          session?.close();
        },
      };
    },
  };
}

/** a ByteChannel as the node Duplex node:http2 reads and writes, with backpressure both ways */
function duplexOf(channel: ByteChannel): Duplex {
  let writeDone: (() => void) | null = null;
  const duplex = new DuplexClass!({
    read() {
      channel.resume();
    },
    write(chunk: Uint8Array, _encoding, callback) {
      if (channel.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) callback();
      else writeDone = callback;
    },
    final(callback) {
      channel.end();
      callback();
    },
    destroy(error, callback) {
      channel.destroy();
      callback(error);
    },
  });
  channel.attach({
    onData(bytes) {
      if (!duplex.push(bytes)) channel.pause();
    },
    onDrain() {
      const done = writeDone;
      writeDone = null;
      done?.();
    },
    onClose(error) {
      if (error) duplex.destroy(error);
      else duplex.push(null);
    },
  });
  return duplex;
}

/** node's header object without its symbol-keyed extras */
export function plain(headers: NodeHttp2.IncomingHttpHeaders): H2Head {
  const out: H2Head = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
