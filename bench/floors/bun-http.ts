// Floor (e) on Bun: the cheapest HTTP-aware proxy one can write in JavaScript on Bun's raw sockets
// (Bun.listen / Bun.connect), between the byte pipe (d: no HTTP at all) and dietmesh. Per request it
// finds the head's end, parses the start line and fields into a name/value array (bench/floors/
// mini-http.ts), picks the upstream by Host from a fixed one-entry map (anything else: 404), takes a
// keep-alive upstream connection from a small per-upstream pool (opens one when none is idle),
// writes the rebuilt head plus the body bytes (Content-Length only: a request with Transfer-Encoding
// gets 501), parses the response head the same way (status line, Content-Length: the bench upstream
// always sends one, so chunked responses are not done — one without Content-Length gets 502),
// writes the rebuilt head and the body downstream, and puts the upstream connection back. Keep-alive
// on both sides; callbacks, no promises, no Headers objects, no routing table.
// Omitted on purpose: pipelining (a request read while one is in flight waits its turn), timeouts,
// limits other than one 64 KB head, retries beyond re-sending once on a reused connection that
// closed before answering (a stale keep-alive connection), pool limits, any policy or telemetry.
// Usage: bun bench/floors/bun-http.ts --port N --upstream HOST:PORT --host NAME. Prints the bound port.
import { parseArgs } from "node:util";
import type { Socket } from "bun";
import {
  append, bodiless, findHeadEnd, headText, localReply, parseHead, route, statusOf, withBody,
} from "./mini-http.ts";

const { values } = parseArgs({
  options: { port: { type: "string", default: "0" }, upstream: { type: "string" }, host: { type: "string" } },
});
if (!values.upstream || !values.host) throw new Error("--upstream and --host are required");

const MAX_HEAD = 64 * 1024;

/** one upstream: where it is and its idle keep-alive connections (last in, first out) */
interface Pool { hostname: string; port: number; idle: Up[] }

/** a downstream connection's state between callbacks */
interface Down {
  socket: Socket<Down>;
  pending: Uint8Array | null; // bytes read and not yet handled (a head's start, or a next request)
  up: Up | null; // the upstream connection of the exchange in flight (null: none in flight)
  requestLeft: number; // request body bytes still to relay upstream
  requestLine: string; // the exchange's request line (HEAD answers have no body)
  close: boolean; // Connection: close asked: end after this response
  backlog: Uint8Array[] | null; // bytes the kernel did not take yet (written on drain)
}

/** an upstream connection's state between callbacks */
interface Up {
  socket: Socket<Up> | null; // null while connecting: writes wait in backlog
  pool: Pool;
  down: Down | null; // whose exchange it serves; null while idle
  head: Uint8Array | null; // response bytes before the head's end
  responseLeft: number; // response body bytes still to relay; -1 while the head is awaited
  closeAfter: boolean; // the upstream said Connection: close: not pooled after this response
  sent: Uint8Array | null; // the request as written, kept until an answer byte comes (for the one re-send)
  reused: boolean; // it served an exchange before this one
  backlog: Uint8Array[] | null;
}

// The fixed route map: one entry. A real proxy has a table; a Map lookup is what choosing costs.
const only = route(values.host, values.upstream);
const routes = new Map<string, Pool>([[only.host, { hostname: only.hostname, port: only.port, idle: [] }]]);

/** write all of bytes, keeping what the kernel did not take (or all, before connect) for drain */
function send(side: Down | Up, bytes: Uint8Array): void {
  if (side.backlog !== null || side.socket === null) { (side.backlog ??= []).push(bytes); return; }
  const n = side.socket.write(bytes);
  if (n < bytes.length) side.backlog = [bytes.subarray(n < 0 ? 0 : n)];
}

function drain(socket: Socket<Down> | Socket<Up>): void {
  const side = socket.data;
  const backlog = side.backlog;
  if (backlog === null) return;
  side.backlog = null;
  for (const bytes of backlog) send(side, bytes);
}

/** handle the next request in down's pending bytes, if a whole head is there and nothing is in flight */
function next(d: Down): void {
  const bytes = d.pending;
  if (bytes === null || d.up !== null) return;
  const end = findHeadEnd(bytes, 0, bytes.length);
  if (end < 0) {
    if (bytes.length > MAX_HEAD) refuse(d, 431, "Request Header Fields Too Large");
    return;
  }
  const head = parseHead(bytes, 0, end);
  if (head === null) return refuse(d, 400, "Bad Request");
  if (head.chunked) return refuse(d, 501, "Not Implemented");
  const pool = routes.get(head.host);
  if (pool === undefined) {
    d.pending = end < bytes.length ? bytes.subarray(end) : null;
    if (head.close) return refuse(d, 404, "Not Found");
    send(d, localReply(404, "Not Found", false));
    return next(d);
  }
  // the body bytes that came with the head go in the same write; the rest follow as they arrive
  const length = head.length > 0 ? head.length : 0;
  const withHead = Math.min(length, bytes.length - end);
  d.requestLeft = length - withHead;
  d.pending = end + withHead < bytes.length ? bytes.subarray(end + withHead) : null;
  d.requestLine = head.line;
  d.close = head.close;
  forward(d, pool, withBody(headText(head), bytes, end, end + withHead), false);
}

/** a local reply, then the end of the downstream connection */
function refuse(d: Down, status: number, reason: string): void {
  d.pending = null;
  d.socket.end(localReply(status, reason, true));
}

/** send one request's bytes on a pooled connection, or on a new one */
function forward(d: Down, pool: Pool, request: Uint8Array, fresh: boolean): void {
  // kept for the one re-send only when it is the whole request (a longer body is relayed, not kept)
  const sent = d.requestLeft === 0 ? request : null;
  const reused = fresh ? undefined : pool.idle.pop();
  if (reused !== undefined) {
    reused.down = d; reused.sent = sent; reused.reused = true;
    d.up = reused;
    send(reused, request);
    return;
  }
  const u: Up = {
    socket: null, pool, down: d, head: null, responseLeft: -1, closeAfter: false, sent, reused: false,
    backlog: [request],
  };
  d.up = u;
  void Bun.connect<Up>({
    hostname: pool.hostname,
    port: pool.port,
    data: u,
    socket: { open: upOpen, data: upData, drain, close: upClose, connectError: upClose },
  });
}

function upOpen(up: Socket<Up>): void {
  up.setNoDelay(true);
  const u = up.data;
  u.socket = up;
  if (u.down === null) { up.end(); return; } // the downstream went away meanwhile
  drain(up);
}

function upData(up: Socket<Up>, chunk: Uint8Array): void {
  const u = up.data;
  const d = u.down;
  if (d === null) { up.end(); return; } // bytes nobody asked for
  u.sent = null;
  if (u.responseLeft >= 0) { // body bytes
    const take = Math.min(u.responseLeft, chunk.length);
    send(d, take === chunk.length ? chunk : chunk.subarray(0, take));
    u.responseLeft -= take;
    if (u.responseLeft === 0) done(u, d);
    return;
  }
  const bytes = append(u.head, chunk);
  const end = findHeadEnd(bytes, 0, bytes.length);
  if (end < 0) {
    u.head = bytes;
    if (bytes.length > MAX_HEAD) fail(u, d);
    return;
  }
  u.head = null;
  const head = parseHead(bytes, 0, end);
  if (head === null) return fail(u, d);
  const length = bodiless(d.requestLine, statusOf(head.line)) ? 0 : head.length;
  if (length < 0 || head.chunked) return fail(u, d); // no Content-Length: not done here
  if (d.close) head.fields.push("connection", "close");
  const withHead = Math.min(length, bytes.length - end);
  send(d, withBody(headText(head), bytes, end, end + withHead));
  u.responseLeft = length - withHead;
  u.closeAfter = head.close;
  if (u.responseLeft === 0) done(u, d);
}

/** the exchange is over: the upstream connection back to its pool, the downstream to its next request */
function done(u: Up, d: Down): void {
  u.down = null; u.responseLeft = -1; u.sent = null;
  if (u.closeAfter) u.socket!.end();
  else u.pool.idle.push(u);
  d.up = null;
  if (d.close) { d.socket.end(); return; }
  next(d);
}

/** a 502 instead of the upstream's answer; neither connection is kept */
function fail(u: Up, d: Down): void {
  u.down = null;
  u.socket?.end();
  d.up = null;
  refuse(d, 502, "Bad Gateway");
}

function upClose(up: Socket<Up>): void {
  const u = up.data;
  u.socket = null;
  const idle = u.pool.idle.indexOf(u);
  if (idle >= 0) u.pool.idle.splice(idle, 1);
  const d = u.down;
  if (d === null) return;
  u.down = null;
  d.up = null;
  // a kept-alive connection the upstream closed before answering: the request was never seen, so it
  // goes once more on a new connection (what any keep-alive pool has to do)
  if (u.reused && u.sent !== null && u.head === null) return forward(d, u.pool, u.sent, true);
  if (u.responseLeft < 0) refuse(d, 502, "Bad Gateway");
  else d.socket.end(); // mid-body: nothing honest to add
}

const server = Bun.listen<Down>({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open(down) {
      down.setNoDelay(true);
      down.data = { socket: down, pending: null, up: null, requestLeft: 0, requestLine: "", close: false, backlog: null };
    },
    data(down, chunk) {
      const d = down.data;
      if (d.requestLeft > 0 && d.up !== null) { // request body bytes for the exchange in flight
        const take = Math.min(d.requestLeft, chunk.length);
        send(d.up, take === chunk.length ? chunk : chunk.subarray(0, take));
        d.requestLeft -= take;
        if (take === chunk.length) return;
        chunk = chunk.subarray(take);
      }
      d.pending = append(d.pending, chunk);
      next(d);
    },
    drain,
    close(down) {
      const u = down.data.up;
      // an exchange in flight: its answer has nowhere to go, so that connection cannot be pooled
      if (u !== null) { u.down = null; u.socket?.end(); down.data.up = null; }
    },
  },
});

console.log(server.port);
