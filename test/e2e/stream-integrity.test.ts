// Bodies streamed through a gateway arrive byte for byte, whatever the gateway does with its read
// buffers. On Deno the gateway hands a large read on in its own buffer and reads into that buffer
// again once the bytes are written (runtime/platform/read-buffers.ts); a buffer reused while
// anything still held its bytes would show here as another stream's bytes in this one. So every
// stream carries its own position-dependent pattern, several run at once (their reads share the
// buffers), and the cases that keep a chunk past its write are covered: a retry replaying a body
// the first attempt already sent, and a mirror sending each chunk to two upstreams; over HTTPS the
// arrays node:tls (Deno) or Bun's TLS sockets made are freed once written, which the same checks see.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, connect, type Server, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { onHead, streamGateway, throwawayCert } from "../../bench/memory/stream-rss.ts";
import { createHash } from "node:crypto";
import { eventually, must, startGateway, startSidecar, stopAll, tempConfig, serviceEntry } from "../support/mesh.ts";
import { platform } from "../../runtime/platform/index.ts";

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** the i-th 64 KiB chunk of stream `seed`: every byte depends on the seed and its position */
function patternChunk(seed: number, i: number): Uint8Array {
  const out = new Uint8Array(CHUNK);
  let x = (seed * 2654435761 + i * 40503) >>> 0;
  for (let j = 0; j < CHUNK; j += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[j] = x >>> 24;
    out[j + 1] = x >>> 16;
    out[j + 2] = x >>> 8;
    out[j + 3] = x;
  }
  return out;
}

function patternHash(seed: number, bytes: number): string {
  const hash = createHash("sha256");
  for (let i = 0; i * CHUNK < bytes; i++) hash.update(patternChunk(seed, i).subarray(0, Math.min(CHUNK, bytes - i * CHUNK)));
  return hash.digest("hex");
}

/** writes `bytes` of stream `seed` to socket, waiting for drains; then calls done */
function pushPattern(socket: Socket, seed: number, bytes: number, done = () => {}): void {
  let i = 0;
  const more = () => {
    while (i * CHUNK < bytes) {
      const chunk = patternChunk(seed, i).subarray(0, Math.min(CHUNK, bytes - i * CHUNK));
      i++;
      if (!socket.write(chunk)) return void socket.once("drain", more);
    }
    done();
  };
  more();
}

interface Received {
  path: string;
  bytes: number;
  hash: string;
}

/**
 * A minimal HTTP/1.1 upstream on node:net (Content-Length bodies only): records each request
 * body's length and hash; `GET /down/SEED/BYTES` answers with that pattern; `answer` may choose a
 * status for a request whose body it has read (a 503 makes the gateway retry).
 */
function upstream(answer: (path: string, attempt: number) => number = () => 200) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    // one request after another on the connection: its head, then its body, then the answer
    const serve = () =>
      onHead(socket, (text, rest) => {
        const path = text.split(" ")[1];
        const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? "0");
        const hash = createHash("sha256");
        let got = 0;
        const onBody = (bytes: Uint8Array) => {
          const n = Math.min(bytes.byteLength, length - got);
          hash.update(bytes.subarray(0, n));
          got += n;
          if (got < length) return;
          socket.off("data", onBody);
          answered(path, got, hash.digest("hex"));
          serve();
        };
        socket.on("data", onBody);
        onBody(rest);
      });
    const answered = (path: string, got: number, digest: string) => {
      const attempt = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, attempt);
      received.push({ path, bytes: got, hash: digest });
      const down = /^\/down(-unframed)?\/(\d+)\/(\d+)$/.exec(path);
      if (down) {
        const bytes = Number(down[3]);
        if (!down[1]) {
          socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${bytes}\r\n\r\n`);
          return pushPattern(socket, Number(down[2]), bytes);
        }
        // no length: the body ends with the connection
        socket.write(`HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n`);
        return pushPattern(socket, Number(down[2]), bytes, () => socket.end());
      }
      const status = answer(path, attempt);
      socket.write(`HTTP/1.1 ${status} X\r\ncontent-length: 2\r\n\r\nok`);
    };
    serve();
  });
  const listening = new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
  return { server, received, listening };
}

/**
 * One request through the gateway, asking it to close the connection after the response (which
 * must then still arrive whole): the status, and the response body's length and hash. An HTTP/1.0
 * request gets a body of unknown length delimited by the close.
 */
function exchange(port: number, method: string, path: string, upload: { seed: number; bytes: number } | null, version = "1.1", tls = false, host = "stream.example"): Promise<{ status: number; bytes: number; hash: string }> {
  return new Promise((resolve, reject) => {
    const start = () => {
      socket.write(`${method} ${path} HTTP/${version}\r\nhost: ${host}\r\ncontent-length: ${upload?.bytes ?? 0}\r\nconnection: close\r\n\r\n`);
      if (upload) pushPattern(socket, upload.seed, upload.bytes);
    };
    const socket: Socket = tls ? tlsConnect({ host: "127.0.0.1", port, servername: "stream.example", rejectUnauthorized: false }, start) : connect(port, "127.0.0.1", start);
    socket.on("error", (e) => reject(new Error(`${method} ${path}: ${e} after ${got} of ${length}, status ${status}`)));
    let status = 0;
    let length = -1;
    let got = 0;
    const hash = createHash("sha256");
    const finish = () => {
      socket.destroy();
      resolve({ status, bytes: got, hash: hash.digest("hex") });
    };
    const body = (bytes: Uint8Array) => {
      hash.update(bytes);
      got += bytes.byteLength;
      if (length !== Infinity && got >= length) finish();
    };
    socket.on("end", () => (length === Infinity ? finish() : reject(new Error(`${method} ${path}: closed after ${got} of ${length} bytes`))));
    onHead(socket, (text, rest) => {
      status = Number(text.split(" ")[1]);
      const declared = /content-length: *(\d+)/i.exec(text)?.[1];
      length = declared !== undefined ? Number(declared) : /transfer-encoding/i.test(text) ? NaN : Infinity;
      if (Number.isNaN(length)) return reject(new Error(`${method} ${path}: a chunked answer (this client reads lengths and closes only)`));
      socket.on("data", body);
      body(rest);
    });
  });
}

function config(mainPort: number, shadowPort: number, tlsDir?: string) {
  return tempConfig({
    "stream.yaml": `${streamGateway(tlsDir)}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: stream }
spec:
  hosts: ["stream.example"]
  gateways: [stream-gateway]
  http:
  - match: [{ uri: { prefix: /mirror/ } }]
    route: [{ destination: { host: main.default.svc.cluster.local } }]
    mirror: { host: shadow.default.svc.cluster.local }
    mirrorPercentage: { value: 100 }
  - match: [{ uri: { prefix: /once/ } }]
    route: [{ destination: { host: main.default.svc.cluster.local } }]
    retries: { attempts: 0 }
  - route: [{ destination: { host: main.default.svc.cluster.local } }]
    retries: { attempts: 2, retryOn: "503" }
---
${serviceEntry("main", "main.default.svc.cluster.local", [{ address: `127.0.0.1:${mainPort}` }])}
---
${serviceEntry("shadow", "shadow.default.svc.cluster.local", [{ address: `127.0.0.1:${shadowPort}` }])}`,
  });
}

const servers: Server[] = [];
test.after.each(() => {
  stopAll();
  for (const s of servers.splice(0)) s.close();
});

async function setup(answer?: (path: string, attempt: number) => number, https = false) {
  const main = upstream(answer);
  const shadow = upstream();
  servers.push(main.server, shadow.server);
  const tlsDir = https ? await throwawayCert() : undefined;
  const gateway = await startGateway(await config(await main.listening, await shadow.listening, tlsDir), https ? ["--bind", "443=127.0.0.1:0"] : []);
  const port443 = https ? Number((await gateway.child.waitFor(/gateway port 443 listening on (\S+) \(HTTPS\)/))[1].split(":")[1]) : 0;
  return { main, shadow, port: Number(gateway.port80.split(":")[1]), port443 };
}

test("uploads and downloads at once, with and without a replay buffer: every body arrives as sent", async () => {
  const { main, port } = await setup();
  const size = 12 * MIB + 12345; // not a multiple of any read
  const runs = await Promise.all([
    exchange(port, "POST", "/once/1", { seed: 1, bytes: size }),
    exchange(port, "POST", "/retried/2", { seed: 2, bytes: size }),
    exchange(port, "GET", `/down/3/${size}`, null),
    exchange(port, "GET", `/down/4/${size}`, null),
    exchange(port, "POST", "/once/5", { seed: 5, bytes: size }),
  ]);
  for (const r of runs) assert.is(r.status, 200);
  for (const [path, seed] of [["/once/1", 1], ["/retried/2", 2], ["/once/5", 5]] as const) {
    const got = main.received.find((r) => r.path === path);
    assert.ok(got, `the upstream got ${path}`);
    assert.is(got!.bytes, size, `${path}: length`);
    assert.is(got!.hash, patternHash(seed, size), `${path}: the upstream got other bytes than were sent`);
  }
  assert.is(runs[2].hash, patternHash(3, size), "download 3: the client got other bytes than were sent");
  assert.is(runs[3].hash, patternHash(4, size), "download 4: the client got other bytes than were sent");
});

test("over HTTPS: uploads and downloads at once arrive as sent", async () => {
  const { main, port443 } = await setup(undefined, true);
  const size = 12 * MIB + 5;
  const runs = await Promise.all([
    exchange(port443, "POST", "/once/41", { seed: 41, bytes: size }, "1.1", true),
    exchange(port443, "POST", "/retried/42", { seed: 42, bytes: size }, "1.1", true),
    exchange(port443, "GET", `/down/43/${size}`, null, "1.1", true),
    exchange(port443, "GET", `/down/44/${size}`, null, "1.1", true),
  ]);
  for (const r of runs) assert.is(r.status, 200);
  for (const seed of [41, 42]) assert.is(main.received.find((r) => r.path.endsWith(`/${seed}`))?.hash, patternHash(seed, size), `upload ${seed}: the upstream got other bytes than were sent`);
  assert.is(runs[2].hash, patternHash(43, size), "download 43: the client got other bytes than were sent");
  assert.is(runs[3].hash, patternHash(44, size), "download 44: the client got other bytes than were sent");
});

test("through a sidecar pair (mTLS between them): uploads and downloads at once arrive as sent", async () => {
  const main = upstream();
  servers.push(main.server);
  const work = await platform.makeTempDir("dietmesh-integrity-");
  try {
    await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
    const b = await startSidecar(await tempConfig({}), ["--app", `127.0.0.1:${await main.listening}`, "--inbound", "127.0.0.1:0", "--ca-dir", `${work}/ca`, "--service-account", "b", "--labels", "app=b"]);
    const a = await startSidecar(await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]) }), ["--ca-dir", `${work}/ca`, "--service-account", "a"]);
    const port = Number(a.outbound.split(":")[1]);
    const host = "b.default.svc.cluster.local:8080";
    const size = 12 * MIB + 9;
    const runs = await Promise.all([
      exchange(port, "POST", "/mesh/51", { seed: 51, bytes: size }, "1.1", false, host),
      exchange(port, "POST", "/mesh/52", { seed: 52, bytes: size }, "1.1", false, host),
      exchange(port, "GET", `/down/53/${size}`, null, "1.1", false, host),
      exchange(port, "GET", `/down/54/${size}`, null, "1.1", false, host),
    ]);
    for (const r of runs) assert.is(r.status, 200);
    for (const seed of [51, 52]) assert.is(main.received.find((r) => r.path === `/mesh/${seed}`)?.hash, patternHash(seed, size), `upload ${seed}: the app got other bytes than were sent`);
    assert.is(runs[2].hash, patternHash(53, size), "download 53: the client got other bytes than were sent");
    assert.is(runs[3].hash, patternHash(54, size), "download 54: the client got other bytes than were sent");
  } finally {
    stopAll();
    await platform.remove(work);
  }
});

test("an HTTP/1.0 client gets a body of unknown length whole, delimited by the close", async () => {
  const { port } = await setup();
  const size = 10 * MIB + 3;
  const runs = await Promise.all([exchange(port, "GET", `/down-unframed/31/${size}`, null, "1.0"), exchange(port, "GET", `/down-unframed/32/${size}`, null, "1.0")]);
  for (const [i, r] of runs.entries()) {
    assert.is(r.status, 200);
    assert.is(r.bytes, size);
    assert.is(r.hash, patternHash(31 + i, size));
  }
});

test("a retry replays the body the first attempt sent, while other streams reuse read buffers", async () => {
  // the first attempt of /retried/ is answered 503 once its whole body was read: the retry must
  // send the same bytes again, from the replay buffer, though the first attempt's writes are done
  const { main, port } = await setup((path, attempt) => (path.startsWith("/retried/") && attempt === 1 ? 503 : 200));
  const small = 60 * 1024; // under the 64 KiB replay limit: replayable
  const runs = await Promise.all([
    exchange(port, "GET", `/down/7/${16 * MIB}`, null),
    exchange(port, "POST", "/once/8", { seed: 8, bytes: 16 * MIB }),
    ...[11, 12, 13, 14].map((seed) => exchange(port, "POST", `/retried/${seed}`, { seed, bytes: small })),
  ]);
  for (const r of runs) assert.is(r.status, 200);
  for (const seed of [11, 12, 13, 14]) {
    const got = main.received.filter((r) => r.path === `/retried/${seed}`);
    assert.is(got.length, 2, `/retried/${seed}: two attempts`);
    for (const attempt of got) assert.is(attempt.hash, patternHash(seed, small), `/retried/${seed}: an attempt carried other bytes than were sent`);
  }
  assert.is(runs[0].hash, patternHash(7, 16 * MIB));
  assert.is(main.received.find((r) => r.path === "/once/8")?.hash, patternHash(8, 16 * MIB));
});

test("a mirrored upload reaches the upstream and the mirror byte for byte", async () => {
  const { main, shadow, port } = await setup();
  const size = 8 * MIB + 777;
  const runs = await Promise.all([exchange(port, "POST", "/mirror/21", { seed: 21, bytes: size }), exchange(port, "GET", `/down/22/${size}`, null)]);
  for (const r of runs) assert.is(r.status, 200);
  assert.is(main.received.find((r) => r.path === "/mirror/21")?.hash, patternHash(21, size), "the upstream got other bytes than were sent");
  // the mirror is fire and forget: its copy may still be arriving when the client has its answer
  await eventually(async () => shadow.received.some((r) => r.path === "/mirror/21"), 15_000, "the mirror's copy");
  assert.is(shadow.received.find((r) => r.path === "/mirror/21")?.hash, patternHash(21, size), "the mirror got other bytes than were sent");
  assert.is(runs[1].hash, patternHash(22, size));
});

test.run();
