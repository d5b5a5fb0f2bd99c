// dietmesh's HTTP/1.1 server against the malformed-request items of issue 15 (3–7), as raw bytes
// over a socket to real processes on both runtimes: a sidecar's outbound listener, a gateway and a
// plain inbound listener. The upstream is a wire-level echo on node:net (not a runtime's HTTP
// server, which would judge framing by its own rules): it records every request head it gets, the
// body as it arrived, whether the body's framing completed, and how the connection ended — so each
// case asserts both what the client got and what the upstream saw.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server, type Socket } from "node:net";
import { platform } from "../../runtime/platform/index.ts";
import { defaultConnect } from "../../runtime/upstream/http1/index.ts";
import type { Transport } from "../../runtime/platform/http1/transport.ts";
import { eventually, serviceEntry, startGateway, startSidecar, stopAll, tempConfig, type Gateway, type Sidecar } from "../support/mesh.ts";

// ---- the upstream: a wire-level echo ----

interface Seen {
  connection: number;
  method: string;
  target: string;
  /** lower-case names; repeated names joined with ", " */
  headers: Record<string, string>;
  /** how many header lines had each lower-case name */
  counts: Record<string, number>;
  /** the body as received so far, de-chunked */
  body: string;
  /** the body's framing ended (Content-Length reached, or the last chunk and trailers) */
  complete: boolean;
  /** the connection ended before the body did: "end" (FIN) or "reset" */
  cut?: "end" | "reset";
}

interface Echo {
  address: string;
  seen: Seen[];
  server: Server;
}

/** the request whose target starts with "/tag" (tags are unique per case and listener) */
const byTag = (echo: Echo, tag: string) => echo.seen.filter((s) => s.target === `/${tag}` || s.target.startsWith(`/${tag}?`));

/** parses a chunked body from text[at..]: [body, end] once complete (trailers included), null when more is needed */
function dechunk(text: string, at: number): [string, number] | null {
  let body = "";
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = parseInt(text.slice(at, eol).split(";")[0], 16);
    at = eol + 2;
    if (size === 0) {
      // trailers, up to an empty line
      for (;;) {
        const end = text.indexOf("\r\n", at);
        if (end < 0) return null;
        const empty = end === at;
        at = end + 2;
        if (empty) return [body, at];
      }
    }
    if (text.length < at + size + 2) {
      body += text.slice(at, Math.min(text.length, at + size));
      return null;
    }
    body += text.slice(at, at + size);
    at += size + 2;
  }
}

async function startWireEcho(): Promise<Echo> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((socket: Socket) => {
    const connection = ++connections;
    let text = ""; // latin1
    let current: Seen | null = null;
    let bodyAt = 0;
    socket.on("data", (chunk: Uint8Array) => {
      for (let i = 0; i < chunk.length; i++) text += String.fromCharCode(chunk[i]);
      for (;;) {
        if (!current) {
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) return;
          const lines = text.slice(0, end).split("\r\n");
          const [method, target] = lines[0].split(" ");
          const headers: Record<string, string> = {};
          const counts: Record<string, number> = {};
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon).toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
            counts[name] = (counts[name] ?? 0) + 1;
          }
          current = { connection, method, target, headers, counts, body: "", complete: false };
          seen.push(current);
          text = text.slice(end + 4);
          bodyAt = 0;
        }
        const request: Seen = current;
        if (request.headers["transfer-encoding"] === "chunked") {
          const done = dechunk(text, bodyAt);
          if (!done) {
            request.body = dechunkPartial(text);
            return;
          }
          request.body = done[0];
          text = text.slice(done[1]);
        } else {
          const length = Number(request.headers["content-length"] ?? 0);
          request.body = text.slice(0, length);
          if (text.length < length) return;
          text = text.slice(length);
        }
        request.complete = true;
        current = null;
        const json = JSON.stringify({ method: request.method, target: request.target, headers: request.headers, body: request.body });
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n${json}`);
      }
    });
    let reset = false;
    socket.on("error", () => (reset = true));
    socket.on("close", () => {
      if (current && !current.complete) current.cut = reset ? "reset" : "end";
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, seen, server };
}

/** the data of the complete chunks in a chunked body received so far */
function dechunkPartial(text: string): string {
  let body = "";
  let at = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol < 0) return body;
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return body;
    body += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
    if (at > text.length) return body;
  }
}

// ---- the client: raw bytes, every response parsed off the connection ----

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** complete responses at the start of text (interim 1xx ones included), and whether more text follows */
function parseReplies(text: string, closed: boolean): Reply[] {
  const out: Reply[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return out;
    const lines = text.slice(at, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    const status = Number(lines[0].split(" ")[1]);
    let bodyAt = end + 4;
    let body = "";
    if (status < 200 || status === 204 || status === 304) {
      // no body
    } else if (headers["transfer-encoding"] === "chunked") {
      const done = dechunk(text, bodyAt);
      if (!done) return out;
      [body, bodyAt] = done;
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      if (text.length < bodyAt + length) return out;
      body = text.slice(bodyAt, bodyAt + length);
      bodyAt += length;
    } else {
      if (!closed) return out;
      body = text.slice(bodyAt);
      bodyAt = text.length;
    }
    out.push({ status, headers, body });
    at = bodyAt;
  }
}

class RawClient {
  text = "";
  closed = false;
  private waiter: (() => void) | null = null;
  private transport!: Transport;

  static open(address: string): Promise<RawClient> {
    const client = new RawClient();
    const [host, port] = address.split(":");
    return new Promise((resolve) => {
      client.transport = defaultConnect(host, Number(port), {
        onOpen: () => resolve(client),
        onData(chunk) {
          for (let i = 0; i < chunk.length; i++) client.text += String.fromCharCode(chunk[i]);
          client.wake();
        },
        onDrain() {},
        onClose() {
          client.closed = true;
          client.wake();
          resolve(client);
        },
      });
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  send(bytes: string): void {
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
    this.transport.write(out);
  }

  get replies(): Reply[] {
    return parseReplies(this.text, this.closed);
  }

  /**
   * resolves once `done` holds (checked on every byte or close) or the deadline passes; the
   * deadline only bounds a wait for something that must not happen, or guards a hung test
   */
  async until(done: (c: RawClient) => boolean, deadlineMs = 5000): Promise<Reply[]> {
    const deadline = Date.now() + deadlineMs;
    while (!done(this) && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.replies;
  }

  /** n final (non-1xx) responses, or the connection closed */
  finals(n: number, deadlineMs = 5000): Promise<Reply[]> {
    return this.until((c) => c.replies.filter((r) => r.status >= 200).length >= n, deadlineMs).then((all) => all.filter((r) => r.status >= 200));
  }

  /** until the server closes the connection (a guard bounds it) */
  async closedByServer(deadlineMs = 5000): Promise<boolean> {
    await this.until(() => false, deadlineMs);
    return this.closed;
  }

  close(): void {
    this.transport.destroy();
  }
}

/** one exchange on a fresh connection: the bytes in one write, n final responses (or a close) */
async function exchange(address: string, bytes: string, n = 1): Promise<{ replies: Reply[]; client: RawClient }> {
  const client = await RawClient.open(address);
  client.send(bytes);
  const replies = await client.finals(n);
  return { replies, client };
}

// ---- the mesh under test ----

let echo: Echo;
let outbound: Sidecar;
let gateway: Gateway;
let inbound: Sidecar;
const dirs: string[] = [];
let counter = 0;

const HOST = "up.example";

const gatewayRoutes = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: up-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: ["${HOST}"] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: up }
spec:
  hosts: ["${HOST}"]
  gateways: [up-gateway]
  http: [{ route: [{ destination: { host: ${HOST}, port: { number: 80 } } }] }]
`;

test.before(async () => {
  echo = await startWireEcho();
  const up = serviceEntry("up", HOST, [{ address: echo.address }], 80);
  const outboundConfig = await tempConfig({ "up.yaml": up });
  const gatewayConfig = await tempConfig({ "up.yaml": up, "routes.yaml": gatewayRoutes });
  const inboundConfig = await tempConfig({});
  dirs.push(outboundConfig, gatewayConfig, inboundConfig);
  [outbound, gateway, inbound] = await Promise.all([
    startSidecar(outboundConfig),
    startGateway(gatewayConfig),
    startSidecar(inboundConfig, ["--app", echo.address, "--inbound", "127.0.0.1:0"]),
  ]);
});

test.after(async () => {
  stopAll();
  await new Promise<void>((resolve) => echo.server.close(() => resolve()));
  for (const dir of dirs) await platform.remove(dir);
});

const listeners = (): [string, string][] => [
  ["outbound", outbound.outbound],
  ["gateway", gateway.port80],
  ["plain inbound", inbound.inbound!],
];

/** a target unique to this case and listener, so the echo's record can be found */
const tag = (what: string) => `${what}-${++counter}`;

const H = `Host: ${HOST}\r\n`;

/** the echo's JSON in a reply */
const echoed = (r: Reply | undefined, what: string): { method: string; target: string; headers: Record<string, string>; body: string } => {
  assert.ok(r, `${what}: no response`);
  assert.is(r!.status, 200, `${what}: ${r!.status} ${r!.body}`);
  return JSON.parse(r!.body);
};

/**
 * the bytes (one write) get `status` and the connection closes; then a well-formed request on a
 * new connection is served, and once the echo has that one, it never saw a request tagged `tagged`
 * complete (nor at all, unless `partialAllowed`)
 */
async function refused(name: string, address: string, bytes: string, status: number, tagged: string, partialAllowed = false): Promise<Reply> {
  const { replies, client } = await exchange(address, bytes);
  assert.is(replies[0]?.status, status, `${name}: ${JSON.stringify(replies)} ${JSON.stringify(client.text.slice(0, 200))}`);
  assert.ok(await client.closedByServer(), `${name}: the connection stays open after ${status}`);
  client.close();
  await served(name, address);
  const seen = byTag(echo, tagged);
  if (partialAllowed) assert.is(seen.filter((s) => s.complete).length, 0, `${name}: the upstream got a complete request: ${JSON.stringify(seen)}`);
  else assert.is(seen.length, 0, `${name}: the upstream saw it: ${JSON.stringify(seen)}`);
  return replies[0];
}

/** a well-formed request on a new connection is served and reaches the echo */
async function served(name: string, address: string): Promise<void> {
  const t = tag("control");
  const { replies, client } = await exchange(address, `GET /${t} HTTP/1.1\r\n${H}\r\n`);
  client.close();
  assert.is(echoed(replies[0], `${name}, the next request`).target, `/${t}`);
  assert.is(byTag(echo, t).length, 1);
}

// ---- item 3: pipelining ----

test("item 3: POST with Content-Length 0 then GET /b in ONE write → two responses in order, the upstream saw both", async () => {
  for (const [name, address] of listeners()) {
    const a = tag("a");
    const b = tag("b");
    const { replies, client } = await exchange(address, `POST /${a} HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\nGET /${b} HTTP/1.1\r\n${H}\r\n`, 2);
    assert.is(replies.length, 2, `${name}: ${client.text}`);
    assert.is(echoed(replies[0], name).target, `/${a}`, name);
    assert.is(echoed(replies[0], name).method, "POST", name);
    assert.is(echoed(replies[1], name).target, `/${b}`, name);
    assert.is(client.closed, false, `${name}: the connection stays open`);
    client.close();
    assert.is(byTag(echo, a).length, 1, name);
    assert.is(byTag(echo, b).length, 1, name);
  }
});

test("item 3: three GETs in one write → three responses in order on the same connection", async () => {
  for (const [name, address] of listeners()) {
    const tags = [tag("g"), tag("g"), tag("g")];
    const { replies, client } = await exchange(address, tags.map((t) => `GET /${t} HTTP/1.1\r\n${H}\r\n`).join(""), 3);
    assert.equal(replies.map((r) => echoed(r, name).target), tags.map((t) => `/${t}`), name);
    assert.is(client.closed, false, name);
    client.close();
    for (const t of tags) assert.is(byTag(echo, t).length, 1, name);
  }
});

test("item 3: a request pipelined after a POST with a body (Content-Length, and chunked) in the same write", async () => {
  for (const [name, address] of listeners()) {
    for (const post of ["Content-Length: 5\r\n\r\nhello", "Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"]) {
      const p = tag("p");
      const g = tag("g");
      const { replies, client } = await exchange(address, `POST /${p} HTTP/1.1\r\n${H}${post}GET /${g} HTTP/1.1\r\n${H}\r\n`, 2);
      client.close();
      assert.is(echoed(replies[0], name).body, "hello", `${name}: ${post}`);
      assert.is(echoed(replies[1], name).target, `/${g}`, name);
      assert.is(echoed(replies[1], name).body, "", name);
      assert.is(byTag(echo, p)[0]?.body, "hello", name);
      assert.ok(byTag(echo, p)[0]?.complete, name);
      assert.is(byTag(echo, g).length, 1, name);
    }
  }
});

// ---- item 4: duplicate Content-Length ----

test("item 4: Content-Length 5 twice, or `5, 5` → one length: 200, the upstream got the body once", async () => {
  for (const [name, address] of listeners()) {
    for (const lengths of ["Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n"]) {
      const t = tag("cl");
      const { replies, client } = await exchange(address, `POST /${t} HTTP/1.1\r\n${H}${lengths}\r\nhello`);
      client.close();
      assert.is(echoed(replies[0], name).body, "hello", `${name}: ${lengths}`);
      const [seen] = byTag(echo, t);
      assert.is(seen.body, "hello", name);
      assert.is(seen.headers["content-length"], "5", `${name}: one Content-Length upstream`);
      assert.is(seen.counts["content-length"], 1, name);
    }
  }
});

test("item 4: differing Content-Lengths (two lines, or `5, 6`) → 400, the upstream sees nothing", async () => {
  for (const [name, address] of listeners()) {
    for (const lengths of ["Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 6\r\n"]) {
      const t = tag("cl");
      await refused(`${name} ${lengths}`, address, `POST /${t} HTTP/1.1\r\n${H}${lengths}\r\nhello!`, 400, t);
    }
  }
});

// ---- item 5: GET with a body ----

test("item 5: GET with a Content-Length body and GET with a chunked body → forwarded with the body", async () => {
  for (const [name, address] of listeners()) {
    for (const framing of ["Content-Length: 13\r\n\r\n{\"q\":\"hello\"}", "Transfer-Encoding: chunked\r\n\r\n6\r\n{\"q\":\"\r\n7\r\nhello\"}\r\n0\r\n\r\n"]) {
      const t = tag("get");
      const { replies, client } = await exchange(address, `GET /${t} HTTP/1.1\r\n${H}${framing}`);
      client.close();
      const got = echoed(replies[0], `${name}: ${framing}`);
      assert.is(got.method, "GET", name);
      assert.is(got.body, '{"q":"hello"}', `${name}: ${framing}`);
      assert.is(byTag(echo, t)[0]?.body, '{"q":"hello"}', name);
      assert.ok(byTag(echo, t)[0]?.complete, name);
    }
  }
});

// ---- item 6: header limits ----

test("item 6: a 40 KiB Authorization header is forwarded whole", async () => {
  const bearer = "Bearer " + "a".repeat(40 * 1024);
  for (const [name, address] of listeners()) {
    const t = tag("big");
    const { replies, client } = await exchange(address, `GET /${t} HTTP/1.1\r\n${H}Authorization: ${bearer}\r\n\r\n`);
    client.close();
    assert.is(replies[0]?.status, 200, `${name}: ${replies[0]?.status}`);
    assert.is(byTag(echo, t)[0]?.headers.authorization, bearer, name);
  }
});

test("item 6: a head over 60 KiB → 431, the upstream sees nothing", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("huge");
    // two headers of 31 KiB each: no single line is the reason, the head's total is
    const big = "b".repeat(31 * 1024);
    await refused(name, address, `GET /${t} HTTP/1.1\r\n${H}X-One: ${big}\r\nX-Two: ${big}\r\n\r\n`, 431, t);
  }
});

test("item 6: exactly 100 header lines (Host included) are forwarded; 101 → 431", async () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-H-${i}: ${i}\r\n`).join("");
  for (const [name, address] of listeners()) {
    const t = tag("hundred");
    const { replies, client } = await exchange(address, `GET /${t} HTTP/1.1\r\n${H}${lines(99)}\r\n`);
    client.close();
    assert.is(replies[0]?.status, 200, `${name}: ${replies[0]?.status} ${replies[0]?.body}`);
    assert.is(byTag(echo, t)[0]?.headers["x-h-98"], "98", name);
    const u = tag("hundred-one");
    await refused(name, address, `GET /${u} HTTP/1.1\r\n${H}${lines(100)}\r\n`, 431, u);
  }
});

test("item 6: both limits are configurable (--max-request-headers-kb, --max-request-headers), on the sidecar and the gateway", async () => {
  const config = await tempConfig({ "up.yaml": serviceEntry("up", HOST, [{ address: echo.address }], 80), "routes.yaml": gatewayRoutes });
  dirs.push(config);
  const limits = ["--max-request-headers-kb", "2", "--max-request-headers", "10"];
  const [small, smallGateway] = await Promise.all([startSidecar(config, limits), startGateway(config, limits)]);
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `X-H-${i}: ${i}\r\n`).join("");
  for (const [name, address] of [["outbound", small.outbound], ["gateway", smallGateway.port80]] as const) {
    const t = tag("ten");
    const { replies, client } = await exchange(address, `GET /${t} HTTP/1.1\r\n${H}${lines(9)}\r\n`);
    client.close();
    assert.is(replies[0]?.status, 200, `${name}: ${replies[0]?.status} ${replies[0]?.body}`);
    const eleven = tag("eleven");
    await refused(name, address, `GET /${eleven} HTTP/1.1\r\n${H}${lines(10)}\r\n`, 431, eleven);
    const big = tag("kb");
    await refused(name, address, `GET /${big} HTTP/1.1\r\n${H}X-Big: ${"b".repeat(2100)}\r\n\r\n`, 431, big);
  }
});

// ---- item 7: nothing reaches the upstream before the request is whole and valid ----

test("item 7: a head whose final CRLF never arrives never reaches the upstream", async () => {
  for (const [name, address] of listeners()) {
    for (const end of ["", "\r"]) {
      const t = tag("nocrlf");
      const client = await RawClient.open(address);
      client.send(`GET /${t} HTTP/1.1\r\n${H}X-Last: 1\r\n${end}`);
      // a bounded wait for an answer that must not come (the head is not complete)
      const replies = await client.until((c) => c.text.length > 0, 300);
      assert.is(replies.length, 0, `${name}: ${client.text}`);
      assert.is(client.text, "", name);
      client.close();
      await served(name, address);
      assert.is(byTag(echo, t).length, 0, `${name}: the upstream saw an incomplete head`);
    }
  }
});

const chunkedHead = (t: string) => `POST /${t} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`;

test("item 7: malformed trailers (a request line, a name with a space, a bare value) → 400, the upstream never gets a complete request", async () => {
  for (const [name, address] of listeners()) {
    for (const trailer of [`GET /smuggled HTTP/1.1\r\n${H}`, "Bad Name: x\r\n", "no-colon\r\n", "X-T: a\x01b\r\n"]) {
      const t = tag("trailer");
      await refused(`${name} ${JSON.stringify(trailer)}`, address, `${chunkedHead(t)}5\r\nhello\r\n0\r\n${trailer}\r\n`, 400, t, true);
      assert.is(echo.seen.some((s) => s.target === "/smuggled"), false, name);
    }
  }
});

test("item 7: a request line in the trailers after the upstream got the head and the data: 400, the upstream connection is cut before the last chunk", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("trailer-late");
    const client = await RawClient.open(address);
    client.send(`${chunkedHead(t)}5\r\nhello\r\n0\r\n`);
    // the body streams: the upstream has the head and the first chunk before the trailers come
    const seen = await eventually(async () => byTag(echo, t)[0]?.body === "hello" && byTag(echo, t)[0], 5000, `${name}: the upstream getting the first chunk`);
    assert.is(seen.complete, false, `${name}: complete before the trailers came`);
    client.send(`GET /smuggled HTTP/1.1\r\n${H}\r\n`);
    const replies = await client.finals(1);
    assert.is(replies[0]?.status, 400, `${name}: ${client.text}`);
    assert.ok(await client.closedByServer(), name);
    client.close();
    await eventually(async () => seen.cut !== undefined, 5000, `${name}: the upstream connection closing`);
    assert.is(seen.complete, false, name);
    assert.is(echo.seen.some((s) => s.target === "/smuggled"), false, name);
    await served(name, address);
  }
});

test("item 7: valid trailers are accepted (the body arrives whole)", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("trailer-ok");
    const { replies, client } = await exchange(address, `${chunkedHead(t)}5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n`);
    client.close();
    assert.is(echoed(replies[0], name).body, "hello", name);
    assert.ok(byTag(echo, t)[0]?.complete, name);
  }
});

test("item 7: a malformed chunk size → 400 on both runtimes, the upstream never gets a complete request", async () => {
  for (const [name, address] of listeners()) {
    for (const body of ["zz\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n-1\r\n\r\n", "5 x\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n0\r\n\r\n"]) {
      const t = tag("chunk");
      await refused(`${name} ${JSON.stringify(body)}`, address, `${chunkedHead(t)}${body}`, 400, t, true);
    }
  }
});

// ---- framing refusals, HTTP/1.0, Expect ----

test("Transfer-Encoding gzip → 501; Content-Length with Transfer-Encoding → 400; the upstream sees neither", async () => {
  for (const [name, address] of listeners()) {
    const g = tag("gzip");
    await refused(name, address, `POST /${g} HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabc`, 501, g);
    const c = tag("clte");
    await refused(name, address, `POST /${c} HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, c);
  }
});

test("HTTP/1.0: closed after the response by default; kept with Connection: keep-alive (and said so)", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("ten");
    const { replies, client } = await exchange(address, `GET /${t} HTTP/1.0\r\n${H}\r\n`);
    assert.is(echoed(replies[0], name).target, `/${t}`, name);
    assert.is(replies[0].headers.connection?.toLowerCase(), "close", name);
    assert.ok(await client.closedByServer(), `${name}: HTTP/1.0 without keep-alive stays open`);
    client.close();

    const k1 = tag("ten-keep");
    const k2 = tag("ten-keep");
    const keep = await RawClient.open(address);
    keep.send(`GET /${k1} HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`);
    const [first] = await keep.finals(1);
    assert.is(echoed(first, name).target, `/${k1}`, name);
    assert.is(first.headers.connection?.toLowerCase(), "keep-alive", name);
    assert.ok(first.headers["content-length"] !== undefined, `${name}: a kept HTTP/1.0 response needs a length`);
    assert.is(keep.closed, false, name);
    keep.send(`GET /${k2} HTTP/1.0\r\n${H}\r\n`);
    const both = await keep.finals(2);
    assert.is(echoed(both[1], name).target, `/${k2}`, name);
    assert.ok(await keep.closedByServer(), `${name}: the second request did not ask to keep it`);
    keep.close();
  }
});

test("Expect: 100-continue: the proxy answers 100 Continue before the body is sent (Envoy's default), the upstream gets the body without Expect", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("expect");
    const client = await RawClient.open(address);
    client.send(`POST /${t} HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    const interim = await client.until((c) => c.replies.length > 0);
    assert.is(interim[0]?.status, 100, `${name}: ${client.text}`);
    client.send("hello");
    const [final] = await client.finals(1);
    client.close();
    const got = echoed(final, name);
    assert.is(got.body, "hello", name);
    assert.is(got.headers.expect, undefined, `${name}: Expect forwarded`);
  }
});

test("Expect: 100-continue with the body in the same write: one 100, then the response", async () => {
  for (const [name, address] of listeners()) {
    const t = tag("expect-now");
    const { replies, client } = await exchange(address, `POST /${t} HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\nhello`);
    const all = client.replies;
    client.close();
    assert.equal(all.map((r) => r.status), [100, 200], name);
    assert.is(echoed(replies[0], name).body, "hello", name);
  }
});

test("after all of that, no listener logged an internal error or crashed", async () => {
  for (const [name, address] of listeners()) await served(name, address);
  for (const child of [outbound.child, gateway.child, inbound.child]) {
    assert.is(child.lines.some((l) => /internal error|uncaught/i.test(l)), false, child.lines.join("\n"));
  }
});

test.run();
