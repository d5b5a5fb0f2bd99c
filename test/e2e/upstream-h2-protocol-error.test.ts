// End to end: an HTTP2 port's upstream that answers no valid HTTP/2 response (a raw h2 server on
// loopback: HEADERS without :status, an undecodable header block) gets Envoy's answer through a
// sidecar — 502, flag UPE, upstream_reset_before_response_started{protocol_error}, in the reply and
// the JSON access log — not 503 UC; a valid answer afterwards is served.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { curl, eventually, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";
import { END_HEADERS, END_STREAM, HEADERS, STATUS_200, frame, literal, rawH2Server, type RawH2Server } from "../upstream/http2/raw-h2-server.ts";

const BAD: Record<string, (id: number) => Uint8Array[]> = {
  "no-status": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, literal("content-type", "text/plain"))],
  "bad-hpack": (id) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [0x80])],
};
const OK = (id: number) => [frame(HEADERS, END_HEADERS | END_STREAM, id, [STATUS_200, ...literal("x-upstream", "raw")])];

let next = OK;
let server: RawH2Server;
let sidecar: Sidecar;

test.before(async () => {
  server = await rawH2Server((id) => next(id));
  const config = await tempConfig({
    "raw.yaml": `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: raw, namespace: default }
spec:
  hosts: [raw.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9000, name: h2, protocol: HTTP2 }]
  endpoints:
  - { address: 127.0.0.1, ports: { h2: ${server.port} } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: raw, namespace: default }
spec:
  hosts: [raw.example]
  http:
  - route: [{ destination: { host: raw.example } }]
    retries: { attempts: 0 }
`,
  });
  sidecar = await startSidecar(config, ["--access-log", "json"]);
});

test.after(async () => {
  stopAll();
  await server.close();
});

async function logged(id: string): Promise<{ response_code: number; response_flags: string; response_code_details: string }> {
  const line = await eventually(async () => sidecar.child.lines.find((l) => l.startsWith("{") && l.includes(`"${id}"`)), 5000, `log line ${id}`);
  return JSON.parse(line);
}

for (const [name, answer] of Object.entries(BAD)) {
  test(`${name}: 502 UPE protocol_error through the sidecar, then a valid answer is served`, async () => {
    next = answer;
    const r = await curl(["-x", `http://${sidecar.outbound}`, "-H", `x-request-id: ${name}`, "http://raw.example:9000/x"]);
    assert.is(r.status, 502, r.body);
    assert.is(r.body, "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
    const entry = await logged(name);
    assert.equal([entry.response_code, entry.response_flags, entry.response_code_details], [502, "UPE", "upstream_reset_before_response_started{protocol_error}"]);
    next = OK;
    const ok = await curl(["-x", `http://${sidecar.outbound}`, "http://raw.example:9000/y"]);
    assert.is(ok.status, 200, ok.body);
    assert.is(ok.headers["x-upstream"], "raw");
  });
}

test.run();
