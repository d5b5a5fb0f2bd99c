// The sniffing mesh listener with h2 offered by ALPN (Acceptance.http2), on loopback with real
// certificates: a client that asks for h2 gets HTTP/2 streams carrying its verified SPIFFE ID; one
// that asks for http/1.1 goes to the HTTP/1.1 handler; stop() sends GOAWAY, so a stream in flight
// finishes and the client opens no new one on that connection.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http2 from "node:http2";
import { connect as tlsConnect } from "node:tls";
import { platform, serveMesh, type TlsCredentials } from "../../runtime/platform/index.ts";
import type { ConnInfo, H2ServerStream, SocketServer } from "../../runtime/platform/types.ts";
import { must } from "../support/mesh.ts";

let work = "";
let server: SocketServer;
let credentials: TlsCredentials;
let client: { cert: string; key: string; ca: string };
const streams: { conn: ConnInfo; stream: H2ServerStream }[] = [];
let http1Connections = 0;

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-mesh-h2-");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
  for (const sa of ["server", "client"]) await must("dietmesh", ["ca", "issue", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", sa, "--out", `${work}/${sa}`]);
  const read = (path: string) => platform.readTextFile(`${work}/${path}`);
  credentials = { certChainPem: await read("server/cert-chain.pem"), keyPem: await read("server/key.pem"), rootCertsPem: await read("server/root-cert.pem") };
  client = { cert: await read("client/cert-chain.pem"), key: await read("client/key.pem"), ca: await read("client/root-cert.pem") };
  server = await serveMesh({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => credentials,
    verifyPeer: async () => null,
    accept: () => ({
      plaintext: false,
      tls: true,
      clientCertificate: true,
      http2(stream, conn) {
        streams.push({ stream, conn });
        // "/slow" is answered only when the test says so
        if (stream.head[":path"] !== "/slow") stream.respond({ ":status": "200" }, null);
      },
    }),
    onConnection(socket) {
      http1Connections++;
      return {
        onOpen() {},
        onData() {
          socket.write(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n"));
        },
        onDrain() {},
        onClose() {},
      };
    },
  });
});

test.after(async () => {
  await server.stop(true);
  await platform.remove(work);
});

const connectH2 = () =>
  http2.connect(`https://127.0.0.1:${server.port}`, {
    createConnection: () => tlsConnect({ host: "127.0.0.1", port: server.port, ...client, ALPNProtocols: ["h2"], checkServerIdentity: () => undefined }),
  });

function get(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":path": path });
    stream.on("response", (head) => resolve(String(head[":status"])));
    stream.on("error", reject);
    stream.resume();
  });
}

test("h2 by ALPN: streams reach the HTTP/2 handler with the client's SPIFFE ID", async () => {
  const session = connectH2();
  assert.is(await get(session, "/one"), "200");
  assert.is(await get(session, "/two"), "200");
  assert.is(streams.length, 2);
  assert.equal(streams[0].conn.peer?.uris, ["spiffe://cluster.local/ns/default/sa/client"]);
  assert.ok(streams[0].conn.secure);
  assert.is(http1Connections, 0);
  session.close();
});

test("http/1.1 by ALPN: the HTTP/1.1 handler", async () => {
  const socket = tlsConnect({ host: "127.0.0.1", port: server.port, ...client, ALPNProtocols: ["http/1.1"], checkServerIdentity: () => undefined });
  const reply = await new Promise<string>((resolve, reject) => {
    socket.once("secureConnect", () => socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
    socket.once("data", (chunk: Uint8Array) => resolve(new TextDecoder().decode(chunk)));
    socket.once("error", reject);
  });
  assert.is(socket.alpnProtocol, "http/1.1");
  assert.match(reply, /^HTTP\/1\.1 204/);
  assert.is(http1Connections, 1);
  socket.destroy();
});

test("stop(): GOAWAY — the stream in flight finishes, the session is told to go", async () => {
  const session = connectH2();
  const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
  const slow = get(session, "/slow");
  await get(session, "/ready"); // the slow stream has reached the server before this one's answer
  const pending = streams.find((s) => s.stream.head[":path"] === "/slow")!;
  assert.ok(pending);
  await server.stop(false);
  await goaway;
  pending.stream.respond({ ":status": "200" }, null);
  assert.is(await slow, "200");
  session.close();
});

test.run();
