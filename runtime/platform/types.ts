// The contract every runtime adapter (bun.ts, deno.ts) fulfils. Only runtime/platform/ may touch
// Bun.*, Deno.* or node:*; the rest of dietmesh speaks Web standards plus these few calls.
import type { HttpResponse } from "../exchange/types.ts";

export interface ConnInfo {
  remoteAddress: string;
  remotePort: number;
  /** the listener's end of the connection (Envoy's %DOWNSTREAM_LOCAL_ADDRESS%), where the listener knows it */
  localAddress?: string;
  localPort?: number;
  /** the server name the client asked for in its TLS ClientHello (%REQUESTED_SERVER_NAME%) */
  sni?: string;
  /** the connection is TLS (mesh-listener.ts) */
  secure?: boolean;
  /** the client certificate of an mTLS connection, verified against the trust bundle */
  peer?: PeerCertificate;
}

export interface PeerCertificate {
  /** URI subject alternative names (a SPIFFE X.509-SVID has exactly one) */
  uris: string[];
  /** the leaf certificate, DER */
  der: Uint8Array;
  /** the URI SAN of the certificate this proxy served on the connection (a gateway's XFCC By) */
  localUri?: string;
}

export type FetchHandler = (request: Request, conn: ConnInfo) => Response | Promise<Response>;

export interface ServeOptions {
  hostname: string;
  port: number; // 0 = let the OS choose
  handler: FetchHandler;
  /** called when the handler throws; must return a response (the data plane never crashes) */
  onError?: (error: unknown) => Response;
  /** WebSocket upgrades this server answers itself (the demo apps); other requests reach handler */
  webSocket?: WebSocketEndpoint;
}

/** a message from a WebSocket peer: text, or the bytes of a binary message */
export type WebSocketMessage = string | Uint8Array;

/**
 * A WebSocket endpoint on a served port, with the runtime's own WebSocket server (Bun's
 * server.upgrade, Deno.upgradeWebSocket): the runtimes agree on nothing else here.
 */
export interface WebSocketEndpoint {
  /** whether this upgrade request is the endpoint's (path, headers); false: the handler answers it */
  accepts(request: Request): boolean;
  /** the connection is open: send may be kept and called until close */
  onOpen?(send: (message: WebSocketMessage) => void): void;
  onMessage(message: WebSocketMessage, send: (message: WebSocketMessage) => void): void;
}

export interface Server {
  readonly hostname: string;
  readonly port: number;
  /** stop accepting; wait for in-flight requests unless force is set */
  stop(force?: boolean): Promise<void>;
}

/** A listener whose accepted connections go to a runtime-neutral handler (dietmesh's HTTP/1.1 server). */
export interface SocketServeOptions {
  hostname: string;
  port: number; // 0 = let the OS choose
  /**
   * Terminate TLS on every connection with these credentials; with clientCertificate, a client
   * certificate chaining to the roots is required and verifyPeer checks it once per connection.
   * Bun only (Deno's TLS listener cannot ask for client certificates).
   */
  tls?: { credentials: import("./mesh-listener.ts").TlsCredentials; clientCertificate: boolean };
  verifyPeer?(leafDer: Uint8Array): Promise<string | null>;
  /**
   * Bind with SO_REUSEPORT, so a successor listener (new certificate, new mTLS mode) can bind the
   * same port before this one stops: no connection attempt finds the port closed.
   */
  reusePort?: boolean;
  onRefused?(reason: string, remoteAddress: string): void;
  /** a connection is admitted: returns what handles its bytes */
  onConnection(socket: import("./http1/transport.ts").Transport, conn: ConnInfo): import("./http1/transport.ts").TransportHandler;
}

export interface SocketServer extends Server {
  /** connections open now */
  connections(): number;
}

/** HTTP/2 header fields as node:http2 gives and takes them: lower-case names, pseudo-headers included */
export type H2Head = Record<string, string | string[]>;

/** one HTTP/2 stream an h2c listener accepted */
export interface H2ServerStream {
  readonly head: H2Head;
  /** null when the request ended with its headers */
  readonly body: ReadableStream<Uint8Array> | null;
  /** the request's trailers, settled when its body has ended */
  readonly trailers: Promise<H2Head | undefined>;
  /** the response: head with ":status"; no body and no trailers → one HEADERS frame ending the stream */
  respond(head: H2Head, body: ReadableStream<Uint8Array> | null, trailers?: Promise<H2Head | undefined>): void;
}

/**
 * The request header blocks an HTTP/2 listener takes (--max-request-headers and
 * --max-request-headers-kb; Envoy's max_request_headers_count and max_request_headers_kb). A
 * stream whose header block is over either is reset before onStream sees it, one whose trailer
 * block is over them when it arrives (http2-head-limits.ts).
 */
export interface H2HeadLimits {
  /** most header fields, pseudo-headers included */
  maxHeaders: number;
  /** largest sum of the fields' name and value lengths, pseudo-headers included */
  maxHeadBytes: number;
  /** called for each stream reset over them (a counter: Envoy's http2.header_overflow); only on that path */
  overflowed?(codec: "http2"): void;
}

/** an HTTP/2 listener with prior knowledge (h2c): every stream handed to onStream */
export interface H2ServeOptions {
  hostname: string;
  port: number; // 0 = let the OS choose
  onStream(stream: H2ServerStream, conn: ConnInfo): void;
  /** without: node:http2's own defaults alone */
  limits?: H2HeadLimits;
}

export interface H2ClientResponse {
  head: H2Head;
  body: ReadableStream<Uint8Array> | null;
  trailers: Promise<H2Head | undefined>;
}

/** one h2c connection to an upstream, carrying many streams */
export interface H2ClientSession {
  /** one stream; rejects with UpstreamError reset/aborted before the response head */
  request(head: H2Head, body: ReadableStream<Uint8Array> | null, trailers: Promise<H2Head | undefined> | undefined, signal?: AbortSignal): Promise<H2ClientResponse>;
  /** streams open now */
  readonly active: number;
  /** the peer's SETTINGS_MAX_CONCURRENT_STREAMS */
  readonly maxStreams: number;
  /** takes no new streams: GOAWAY received, closing or closed */
  readonly gone: boolean;
  /** called once when the session stops taking streams */
  onGone(callback: () => void): void;
  /** called after each stream of the session has closed */
  onStreamClose(callback: () => void): void;
  /** GOAWAY: streams in flight finish, then the connection closes */
  close(): void;
}

export interface FileWatch {
  close(): void;
}

/**
 * Which file a read came from, taken from the open file itself (through symlinks): a file replaced
 * by a rename — or a Kubernetes ConfigMap volume's `..data` symlink swap — has a new `id`; a write
 * in place keeps `id` and changes `stamp`.
 */
export interface FileIdentity {
  /** device and inode */
  readonly id: string;
  /** modification and change times and size */
  readonly stamp: string;
  /** the modification time in ms (config/files.ts: how long a file has been left alone) */
  readonly modifiedMs: number;
}

export interface Platform {
  readonly name: "bun" | "deno";
  /** the runtime's own version, e.g. "1.4.5" */
  readonly runtimeVersion: string;
  /**
   * In a single executable (`npm run build`, scripts/build-exe.mjs): the URL of a module embedded
   * as an entry point beside the CLI, by its path from runtime/ (e.g.
   * "discovery/config-worker-main.ts"), for `new Worker`. Undefined when running from the sources,
   * where a module's own import.meta.url finds it.
   */
  embeddedModule(pathFromRuntime: string): URL | undefined;
  serve(options: ServeOptions): Server;
  /** a listener on the runtime's native sockets (see SocketServeOptions) */
  serveSockets(options: SocketServeOptions): SocketServer;
  /** an h2c (prior knowledge) listener on the runtime's node:http2 */
  serveHttp2(options: H2ServeOptions): Promise<SocketServer>;
  /** an h2c connection to hostname:port; rejects with UpstreamError connect or connect-timeout */
  connectHttp2(hostname: string, port: number, connectTimeoutMs: number): Promise<H2ClientSession>;
  /** whether serveSockets can terminate TLS with client certificates */
  readonly nativeMtlsListener: boolean;
  readTextFile(path: string): Promise<string>;
  /** readTextFile, and the identity of the file it read (one open: the two always match) */
  readTextFileWithIdentity(path: string): Promise<{ text: string; identity: FileIdentity }>;
  /** the identity readTextFileWithIdentity would give, from a stat alone (symlinks followed) */
  fileIdentity(path: string): Promise<FileIdentity>;
  /**
   * writes via a temporary file and a rename, so a watcher never reads half a file; `mode` (0o600
   * for private keys) is set when the temporary file is created, so the bytes are never exposed
   */
  writeTextFile(path: string, text: string, options?: { mode?: number }): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** a new empty directory under the system's temp dir */
  makeTempDir(prefix: string): Promise<string>;
  remove(path: string): Promise<void>;
  /** entries of a directory (names only), sorted */
  readDir(path: string): Promise<string[]>;
  isDirectory(path: string): Promise<boolean>;
  /**
   * calls onChange with the entry's name (not a path) when an entry directly in the folder is
   * written, created, renamed or removed; undefined when the runtime cannot say which. Not
   * recursive; the caller filters and debounces.
   */
  watchDir(dir: string, onChange: (name: string | undefined) => void): FileWatch;
  args(): string[];
  env(name: string): string | undefined;
  exit(code: number): never;
  onSignal(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  /** resident set size in bytes, for /stats */
  memoryRss(): number;
  /**
   * a full garbage collection, then what survived it: for DIETMESH_DEBUG_GC's POST /debug/gc (leak
   * hunting, docs/performance.md "Soak"). Bun counts live objects by type; Deno collects only when
   * started with --v8-flags=--expose-gc (collected: false otherwise) and gives no counts.
   */
  collectGarbage(): Promise<HeapReport>;
  /**
   * the runtime's fetch as an UpstreamClient (streams both ways, never decompresses), for what
   * dietmesh's own HTTP/1.1 client does not speak (https:// URLs); see upstream/default-client.ts
   */
  fetchClient: UpstreamClient;
  /**
   * the runtime's own YAML parser where it has one (Bun.YAML; Deno: none): one document's text →
   * its value, throwing on any error. Its semantics differ from the `yaml` package's in places
   * (merge keys, duplicate keys, tags, signed hex): runtime/config/yaml-fast.ts decides when to use it
   */
  parseYaml?: (text: string) => unknown;
  /**
   * a full garbage collection now, where the runtime offers one without flags (Bun; 20–50 ms on a
   * 60 MB heap): called after a config swap, whose garbage (the old table, a config worker's heap,
   * the files' texts) otherwise holds RSS at twice the live size until the collector gets to it
   */
  collectNow?: () => void;
  /**
   * gives the memory a collection freed back to the system, and the runtime's caches with it (Bun:
   * Bun.shrink; it takes ~0.1 ms, but drops all compiled code, which is compiled again: measured, a
   * reload after it ran ~50 ms slower at 10,000 services, and a proxy under load ran ~10 % slower for
   * ~15 s). Called once, at start-up's first idle interval (lib/shrink-when-idle.ts): the
   * start-up's garbage — a Kubernetes registry's list pages above all — otherwise stays mapped
   * (2,000 Services: ~81 → ~76 MB RSS)
   */
  shrinkNow?: () => void;
  /** the process's CPU time so far, user and system, all threads (ms): tells shrinkNow's caller when it is idle */
  cpuTimeMs?: () => number;
}

export interface HeapReport {
  collected: boolean;
  rss: number;
  heapUsed: number;
  /** V8's committed heap and memory held outside it by JS objects (Deno only) */
  heapTotal?: number;
  external?: number;
  /** live objects by type (Bun only) */
  objects?: Record<string, number>;
}

/** One request to an upstream, as the proxy hands it to the runtime's HTTP client. */
export interface UpstreamRequest {
  /** "http://10.0.0.1:8080/path?query" — the address to connect to and the request target */
  url: string;
  /** the origin-form target ("/path?query") when the caller has it apart: url is then not parsed back for it */
  target?: string;
  /** an http:// url's authority ("10.0.0.1:8080") when the caller has it apart, for the same reason */
  address?: string;
  method: string;
  /** sent as given, Host included; hop-by-hop headers are already removed */
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  /** the request's trailers (gRPC over HTTP/2); sent by the HTTP/2 client */
  trailers?: Promise<Headers | undefined>;
  signal?: AbortSignal;
}

/**
 * Why an upstream call failed, in the terms the proxy maps to response flags. "protocol": the
 * upstream answered bytes that are no valid response (Envoy's protocol error, 502 UPE), apart from
 * "reset" (it closed or reset without one, 503 UC).
 */
export type UpstreamFailure = "connect" | "connect-timeout" | "reset" | "protocol" | "aborted" | "overflow";

export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure, message: string) {
    super(message);
  }
}

/** Sends one request upstream and answers with a Web Response: for tools, probes and scrapes. */
export interface UpstreamClient {
  send(request: UpstreamRequest): Promise<Response>;
}

/**
 * The proxy's own upstream client: the answer is an HttpResponse (exchange/types.ts) — a Web
 * Response from a runtime's fetch, or the lighter response of dietmesh's HTTP/1.1 client, which
 * the server writes without building Web objects. Every UpstreamClient is one too.
 */
export interface HttpClient {
  send(request: UpstreamRequest): Promise<HttpResponse>;
}
