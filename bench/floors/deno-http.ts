// Floor (e) on Deno: the cheapest HTTP-aware proxy one can write in JavaScript on Deno's raw sockets
// (Deno.listen / Deno.connect), the same exchange as bench/floors/bun-http.ts: per request find the
// head's end, parse start line and fields into a name/value array (bench/floors/mini-http.ts), pick
// the upstream by Host from a fixed one-entry map (anything else: 404), take a keep-alive upstream
// connection from a small per-upstream pool (open one when none is idle), write the rebuilt head plus
// the body bytes (Content-Length only: Transfer-Encoding gets 501), parse the response head the same
// way (status line, Content-Length: the bench upstream always sends one, so chunked responses are not
// done — one without Content-Length gets 502), write the rebuilt head and the body downstream, and put
// the upstream connection back. Deno's sockets are promise-based (a read and a write are each an
// awaited op), so this floor is one async loop per downstream connection — the least Deno offers.
// Omitted on purpose: pipelining (bytes after a request wait for its answer), timeouts, limits other
// than one 64 KB head, retries beyond re-sending once on a reused connection that closed before
// answering (a stale keep-alive connection), pool limits, any policy or telemetry.
// Usage: deno run -A bench/floors/deno-http.ts --port N --upstream HOST:PORT --host NAME.
// Prints the bound port.
import { Deno, flags, type DenoConn } from "./deno.ts";
import {
  bodiless, findHeadEnd, headText, localReply, parseHead, route, statusOf, withBody, type Head,
} from "./mini-http.ts";

const { port, upstream, host } = flags();
if (!upstream || !host) throw new Error("--upstream and --host are required");

const BUFFER = 64 * 1024; // one read buffer per connection side; a head must fit in it

/** a connection and its read buffer: bytes [start, end) are read and not yet consumed */
interface Side { conn: DenoConn; buffer: Uint8Array; start: number; end: number }

/** one upstream: where it is and its idle keep-alive connections (last in, first out) */
interface Pool { hostname: string; port: number; idle: Side[] }

// The fixed route map: one entry. A real proxy has a table; a Map lookup is what choosing costs.
const only = route(host, upstream);
const routes = new Map<string, Pool>([[only.host, { hostname: only.hostname, port: only.port, idle: [] }]]);

function side(conn: DenoConn): Side {
  conn.setNoDelay(true);
  return { conn, buffer: new Uint8Array(BUFFER), start: 0, end: 0 };
}

/** read more into s's buffer (moving unconsumed bytes to its front first); false at end of stream */
async function fill(s: Side): Promise<boolean> {
  if (s.start > 0) {
    s.buffer.copyWithin(0, s.start, s.end);
    s.end -= s.start;
    s.start = 0;
  }
  if (s.end === s.buffer.length) return false; // a head larger than the buffer: treated as the end
  const n = await s.conn.read(s.buffer.subarray(s.end));
  if (n === null) return false;
  s.end += n;
  return true;
}

/** the next head in s (reading as needed), its bytes consumed; null at end of stream, "bad" if malformed */
async function readHead(s: Side): Promise<Head | null | "bad"> {
  let end: number;
  while ((end = findHeadEnd(s.buffer, s.start, s.end)) < 0) if (!(await fill(s))) return null;
  const head = parseHead(s.buffer, s.start, end);
  s.start = end;
  return head ?? "bad";
}

async function writeAll(conn: DenoConn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length; ) off += await conn.write(off === 0 ? bytes : bytes.subarray(off));
}

/** relay `left` body bytes from `from` (its buffered bytes first) to `to`; false when from ended early */
async function relay(from: Side, to: DenoConn, left: number): Promise<boolean> {
  while (left > 0) {
    if (from.start === from.end) {
      from.start = from.end = 0;
      if (!(await fill(from))) return false;
    }
    const take = Math.min(left, from.end - from.start);
    await writeAll(to, from.buffer.subarray(from.start, from.start + take));
    from.start += take;
    left -= take;
  }
  return true;
}

function close(conn: DenoConn): void {
  try { conn.close(); } catch { /* already closed */ }
}

/** one downstream connection: exchanges in turn until it ends or asks to close */
async function serve(down: Side): Promise<void> {
  let up: Side | null = null; // the upstream connection of the exchange in flight
  try {
    for (;;) {
      const request = await readHead(down);
      if (request === null) return;
      if (request === "bad") return void (await writeAll(down.conn, localReply(400, "Bad Request", true)));
      if (request.chunked) return void (await writeAll(down.conn, localReply(501, "Not Implemented", true)));
      const pool = routes.get(request.host);
      if (pool === undefined) {
        await writeAll(down.conn, localReply(404, "Not Found", request.close));
        if (request.close) return;
        continue;
      }
      // the body bytes already read go in the head's write; the rest are relayed as they come
      const length = request.length > 0 ? request.length : 0;
      const withHead = Math.min(length, down.end - down.start);
      const bytes = withBody(headText(request), down.buffer, down.start, down.start + withHead);
      down.start += withHead;
      let response: Head | null | "bad" = null;
      // a reused connection the upstream closed before answering saw nothing: the request goes once
      // more on a new connection (only when it was whole in one write; what any keep-alive pool does)
      for (let attempt = 0; attempt < 2 && response === null; attempt++) {
        const reused = attempt === 0 ? pool.idle.pop() : undefined;
        up = reused ?? side(await Deno.connect({ hostname: pool.hostname, port: pool.port }));
        try {
          await writeAll(up.conn, bytes);
          if (withHead < length && !(await relay(down, up.conn, length - withHead))) return;
          response = await readHead(up);
        } catch (error) {
          if (reused === undefined) throw error;
        }
        if (response === null) {
          close(up.conn);
          up = null;
          if (reused === undefined || withHead < length) break;
        }
      }
      if (up === null || response === null || response === "bad") {
        return void (await writeAll(down.conn, localReply(502, "Bad Gateway", true)));
      }
      const status = statusOf(response.line);
      const bodyLength = bodiless(request.line, status) ? 0 : response.length;
      if (bodyLength < 0 || response.chunked) { // no Content-Length: not done here
        return void (await writeAll(down.conn, localReply(502, "Bad Gateway", true)));
      }
      if (request.close) response.fields.push("connection", "close");
      const first = Math.min(bodyLength, up.end - up.start);
      await writeAll(down.conn, withBody(headText(response), up.buffer, up.start, up.start + first));
      up.start += first;
      if (first < bodyLength && !(await relay(up, down.conn, bodyLength - first))) return;
      // back to the pool, unless it said close or sent more than its answer (pipelining is not done)
      if (!response.close && up.start === up.end) {
        up.start = up.end = 0;
        pool.idle.push(up);
      } else close(up.conn);
      up = null;
      if (request.close) return;
    }
  } catch {
    // either peer went away mid-exchange: nothing honest to add
  } finally {
    if (up !== null) close(up.conn); // an exchange cut short: that connection cannot be pooled
    close(down.conn);
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(port) });
console.log(listener.addr.port);
for await (const conn of listener) void serve(side(conn));
