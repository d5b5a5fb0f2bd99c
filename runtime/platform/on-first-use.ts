import type { H2ClientSession, SocketServer } from "./types.ts";
import type { MeshServeOptions } from "./mesh-listener.ts";
import type { connectHttp2 as ConnectHttp2 } from "./http2-connect.ts";

// The mesh listener and the HTTP/2 client hold node:net, node:tls and node:crypto: ~15 ms of Bun's
// cold start, which a mesh in process (that never listens, and may never speak HTTP/2) does not
// need. They load on first use (docs/performance.md, "The mesh in process").
/** the sidecar's mTLS/plaintext listener (mesh-listener.ts) */
export async function serveMesh(options: MeshServeOptions): Promise<SocketServer> {
  return (await import("./mesh-listener.ts")).serveMesh(options);
}
/** an HTTP/2 session to an upstream, h2c or inside the mesh mTLS (http2-connect.ts) */
export async function connectHttp2(...args: Parameters<typeof ConnectHttp2>): Promise<H2ClientSession> {
  return (await import("./http2-connect.ts")).connectHttp2(...args);
}
