// Picks the adapter for the runtime we are on. Everything outside runtime/platform/ imports from here.
import type { Platform } from "./types.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export const platform: Platform = isBun ? (await import("./bun.ts")).platform : (await import("./deno.ts")).platform;

export type { PeerCertificate } from "./types.ts";
export type { Acceptance, MeshServeOptions, ServerTls, TlsCredentials } from "./mesh-listener.ts";
export { connectHttp2, serveMesh } from "./on-first-use.ts";
export type { ConnInfo, FetchHandler, Platform, Server, ServeOptions, UpstreamClient, UpstreamRequest } from "./types.ts";
export { UpstreamError } from "./types.ts";
export { http2Handoff } from "./http2-listen.ts";
