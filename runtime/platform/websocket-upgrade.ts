// Whether a request asks for a WebSocket (RFC 6455 §4.2.1: GET with Upgrade: websocket and a
// Connection header listing "upgrade"): what both runtimes' serve adapters check before handing a
// request to a WebSocketEndpoint.
export function isWebSocketUpgrade(request: Request): boolean {
  if (request.method !== "GET") return false;
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return false;
  return (request.headers.get("connection") ?? "").toLowerCase().split(",").some((token) => token.trim() === "upgrade");
}
