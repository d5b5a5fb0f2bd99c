// Hop-by-hop removal (RFC 9110 §7.6.1): the same fields go whether the headers are a HeaderList (one
// pass, names tested by length) or a Web Headers (one delete per name), names listed in Connection
// too — except Host, which a client may not make a proxy drop. And what the upstream request gets:
// the forwarding fields, and no Accept-Encoding the client did not send (Envoy adds none; neither
// does the runtime's fetch client, which carries https:// calls).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stripHopByHop, upstreamRequestHeaders } from "../../runtime/exchange/headers.ts";
import { HeaderList } from "../../runtime/exchange/header-list.ts";
import { platform } from "../../runtime/platform/index.ts";
import { createServer, type AddressInfo } from "node:net";

const HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
// same lengths as hop-by-hop names, and near misses: they must stay
const KEEP = ["x-a", "accept", "tee", "trailers", "upgrades", "keep-alive2", "x-connection", "proxy-connectio", "content-length", "host"];

for (const make of [(p: [string, string][]) => new HeaderList(p), (p: [string, string][]) => new Headers(p)]) {
  const kind = make([]).constructor.name;
  test(`${kind}: every hop-by-hop field goes, every other stays`, () => {
    const fields: [string, string][] = [...KEEP.map((n): [string, string] => [n, "k"]), ...HOP.filter((n) => n !== "connection").map((n): [string, string] => [n, "h"])];
    const headers = make(fields);
    stripHopByHop(headers);
    assert.equal([...headers.keys()].sort(), [...KEEP].sort());
  });

  test(`${kind}: names listed in Connection go too, but never Host`, () => {
    const headers = make([["connection", "close, X-Private, host"], ["x-private", "1"], ["host", "a.example"], ["x-public", "2"], ["te", "trailers"]]);
    stripHopByHop(headers);
    assert.equal([...headers.keys()].sort(), ["host", "x-public"]);
  });
}

test("the upstream request: forwarding fields added, no Accept-Encoding the client did not send", () => {
  const headers = upstreamRequestHeaders(new HeaderList([["host", "a.example"], ["x-dietmesh-response-flags", "UF"]]), { remoteAddress: "10.0.0.9", scheme: "http" }, () => "id-1");
  assert.equal([...headers].sort(), [["host", "a.example"], ["x-forwarded-for", "10.0.0.9"], ["x-forwarded-proto", "http"], ["x-request-id", "id-1"]]);
  const asked = upstreamRequestHeaders(new HeaderList([["host", "a.example"], ["accept-encoding", "gzip"]]), { remoteAddress: "", scheme: "https" }, () => "id-2");
  assert.is(asked.get("accept-encoding"), "gzip");
});

test("the runtime's fetch client asks for no encoding of its own", async () => {
  let head = "";
  const server = createServer((socket) => {
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (head.includes("\r\n\r\n")) socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await platform.fetchClient.send({ url: `http://127.0.0.1:${port}/x`, method: "GET", headers: new Headers({ host: `127.0.0.1:${port}` }), body: null });
    assert.is(await response.text(), "ok");
    assert.ok(head.startsWith("GET /x HTTP/1.1\r\n"), head);
    assert.not.match(head, /accept-encoding/i);
  } finally {
    server.close();
  }
});

test.run();
