// The hello-istio service of the seed's demo: GET /api/hello answers with its version. It also
// shows who called it as its sidecar told it (X-Forwarded-Client-Cert, copied into the response
// header x-app-saw-xfcc), to make the mesh's mTLS identities visible with `curl -i`. A WebSocket
// on the same path (GET /api/hello with Upgrade: websocket, so the seed's VirtualService routes it
// unchanged) greets with the same JSON and answers each message with {version, echo}: the
// version shows which subset a long-lived connection was routed to.
// Usage: app.ts --port N --version 1.0.1 [--delay-ms N]
import { platform } from "../../runtime/platform/index.ts";

function flag(name: string, fallback: string): string {
  const args = platform.args();
  const i = args.indexOf(`--${name}`);
  return i !== -1 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const version = flag("version", "1.0.1");
const delayMs = Number(flag("delay-ms", "0"));
const body = JSON.stringify({ message: "Hello Istio.", version });

const server = platform.serve({
  hostname: flag("host", "127.0.0.1"),
  port: Number(flag("port", "0")),
  webSocket: {
    accepts: (request) => new URL(request.url).pathname === "/api/hello",
    onOpen: (send) => send(body),
    onMessage: (message, send) => send(JSON.stringify({ version, echo: typeof message === "string" ? message : `${message.byteLength} bytes` })),
  },
  async handler(request) {
    const path = new URL(request.url).pathname;
    if (path === "/api/hello") {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return new Response(body, { headers: { "content-type": "application/json", "x-app-saw-xfcc": request.headers.get("x-forwarded-client-cert") ?? "none" } });
    }
    if (path === "/" || path === "/health") return new Response("OK\n");
    return new Response("Not Found\n", { status: 404 });
  },
});
console.log(`hello-istio ${version} listening on ${server.hostname}:${server.port}`);
