// The h2c listener (HTTP/2 with prior knowledge) on node:http2, which Bun and Deno both implement:
// each stream becomes an H2ServerStream (head, body as a web stream with backpressure, trailers),
// and the answer goes back with its trailers. stop() sends GOAWAY on every connection, lets the
// streams in flight finish, and resolves once all connections are closed (force: at once).
import * as http2 from "node:http2";
import type { H2Head, H2ServeOptions, SocketServer } from "./types.ts";
import { webStreamOf } from "./node-stream.ts";
import { sendBody } from "./http2-body.ts";

export function serveHttp2(options: H2ServeOptions): Promise<SocketServer> {
  const sessions = new Set<http2.ServerHttp2Session>();
  // no limit of its own on header list size beyond node's default; streams per connection as Envoy's default
  const server = http2.createServer({ settings: { maxConcurrentStreams: 2147483647 } });
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {}); // a broken connection ends its streams; nothing to report here
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {}); // a reset by the client: the response body is cancelled (sendBody)
    const socket = stream.session?.socket;
    const conn = { remoteAddress: socket?.remoteAddress ?? "", remotePort: socket?.remotePort ?? 0, target: String(headers[":path"] ?? "") };
    const ended = stream.endAfterHeaders;
    let trailers: H2Head | undefined;
    if (!ended) stream.once("trailers", (t) => (trailers = plain(t)));
    const requestTrailers = ended ? Promise.resolve(undefined) : new Promise<H2Head | undefined>((resolve) => {
      stream.once("end", () => resolve(trailers));
      stream.once("close", () => resolve(trailers));
    });
    let answered = false;
    options.onStream(
      {
        head: plain(headers),
        body: ended ? null : webStreamOf(stream, () => new Error("stream reset by the client")),
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

/** node's header object without its symbol-keyed extras */
export function plain(headers: http2.IncomingHttpHeaders): H2Head {
  const out: H2Head = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
