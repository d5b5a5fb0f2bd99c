// parseClientHello on real ClientHellos: openssl s_client and curl connect to a socket that keeps
// their first bytes, and the server name and ALPN list they sent are read back. Malformed and
// random input never throws.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:net";
import { helloRecordLength, parseClientHello } from "../../runtime/security/client-hello.ts";
import { runCommand } from "../../runtime/platform/process.ts";

/** the first TLS record a client sends, captured by a server that then hangs up */
async function capture(client: (port: number) => string[]): Promise<Uint8Array> {
  let resolve!: (bytes: Uint8Array) => void;
  const got = new Promise<Uint8Array>((r) => (resolve = r));
  const server = createServer((socket) => {
    let bytes = new Uint8Array(0);
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(bytes.byteLength + chunk.byteLength);
      next.set(bytes);
      next.set(chunk, bytes.byteLength);
      bytes = next;
      const need = helloRecordLength(bytes);
      if (need > 0 && bytes.byteLength >= need) {
        resolve(bytes);
        socket.destroy();
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const [cmd, ...args] = client(port);
  const child = runCommand(cmd, args);
  const bytes = await got;
  await child.exited;
  server.close();
  return bytes;
}

test("openssl s_client: server name and ALPN as offered", async () => {
  const bytes = await capture((port) => ["sh", "-c", `openssl s_client -connect 127.0.0.1:${port} -servername API.Example.com -alpn h2,http/1.1 </dev/null >/dev/null 2>&1`]);
  assert.equal(parseClientHello(bytes), { serverName: "api.example.com", alpn: ["h2", "http/1.1"] });
});

test("curl over https: the URL's host as SNI; no SNI for an IP address", async () => {
  const named = await capture((port) => ["curl", "-s", "--max-time", "5", "--http1.1", "--resolve", `shop.example:${port}:127.0.0.1`, `https://shop.example:${port}/`]);
  assert.equal(parseClientHello(named), { serverName: "shop.example", alpn: ["http/1.1"] });
  const ip = await capture((port) => ["curl", "-s", "--max-time", "5", "--http1.1", `https://127.0.0.1:${port}/`]);
  const hello = parseClientHello(ip);
  assert.ok(typeof hello === "object", String(hello));
  assert.is((hello as { serverName?: string }).serverName, undefined);
});

test("not TLS, truncated, and a server name that is not a host name are refused with a reason", () => {
  assert.is(helloRecordLength(new TextEncoder().encode("GET / HTTP/1.1\r\n")), -1);
  assert.is(parseClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n")), "not a TLS handshake");
  assert.is(parseClientHello(new Uint8Array([0x16, 3, 1, 0, 10, 1])), "truncated record");
  // a hello whose server_name is "a b" (a space)
  const sni = [0, 0, 0, 8, 0, 6, 0, 0, 3, 0x61, 0x20, 0x62];
  const body = [3, 3, ...new Array(32).fill(0), 0, 0, 2, 0x13, 1, 1, 0, 0, sni.length, ...sni];
  const hello = [1, 0, 0, body.length, ...body];
  const record = new Uint8Array([0x16, 3, 1, 0, hello.length, ...hello]);
  assert.is(parseClientHello(record), "server name is not a host name");
});

test("random bytes after a handshake header never throw", () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let n = 0; n < 3000; n++) {
    const length = 6 + (random() % 200);
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) bytes[i] = random();
    bytes[0] = 0x16;
    bytes[1] = 3;
    bytes[3] = 0;
    bytes[4] = length - 5;
    bytes[5] = 1;
    const result = parseClientHello(bytes);
    assert.ok(typeof result === "string" || Array.isArray(result.alpn));
  }
});

test.run();
