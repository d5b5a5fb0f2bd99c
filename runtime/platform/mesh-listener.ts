// The listener for traffic that may arrive over (m)TLS: sidecar inbound ports with a workload
// identity, and `dietmesh ca serve`. Neither Bun.serve nor Deno.serve tells a handler which client
// certificate it was given, but node:tls sockets do on both runtimes, and node:http accepts a
// socket handed to it with emit("connection"). So: a node:net server peeks at the first byte
// (0x16 opens a TLS handshake; anything else is plaintext HTTP, the PERMISSIVE case), wraps TLS
// in a server TLSSocket that requests and verifies the client certificate against the trust
// bundle, and passes the socket to a node:http server whose requests become fetch Requests with
// the peer's certificate in ConnInfo. The request target is passed as received (ConnInfo.target)
// because a Request's URL is already normalized; an absolute-form target's authority replaces Host
// (RFC 9112 §3.2.2, as Envoy does) and its origin-form part is the target.
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket, type SecureContext } from "node:tls";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { ConnInfo, FetchHandler, Server } from "./types.ts";
import { webStreamOf } from "./node-stream.ts";

/** PEM texts of a workload identity: its chain (leaf first), key, and the roots it trusts */
export interface TlsCredentials {
  certChainPem: string;
  keyPem: string;
  rootCertsPem: string;
}

/** what a listener lets in on a new connection (asked again for every connection) */
export interface Acceptance {
  plaintext: boolean;
  tls: boolean;
  /** TLS connections must present a certificate that chains to rootCertsPem */
  clientCertificate: boolean;
}

export interface MeshServeOptions {
  hostname: string;
  port: number;
  handler: FetchHandler;
  onError?: (error: unknown) => Response;
  /** the current credentials; null: no TLS possible */
  credentials(): TlsCredentials | null;
  accept(): Acceptance;
  /**
   * Checks a client certificate after the handshake (null: accepted, else why not). Required with
   * clientCertificate: Deno's node:tls does not refuse an untrusted client certificate itself.
   */
  verifyPeer?(leafDer: Uint8Array): Promise<string | null>;
  /** bind with SO_REUSEPORT (see SocketServeOptions.reusePort) */
  reusePort?: boolean;
  /** a connection was refused (plaintext on a TLS-only port, failed handshake) */
  onRefused?(reason: string, remoteAddress: string): void;
}

const TLS_HANDSHAKE = 0x16;
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface PeerSocket extends Socket {
  dietmeshConn?: ConnInfo;
}

export function serveMesh(options: MeshServeOptions): Promise<Server> {
  let context: { for: TlsCredentials; secure: SecureContext } | undefined;
  const secureContext = (credentials: TlsCredentials): SecureContext => {
    // built once per credentials object: a rotation hands a new object, new connections use it
    if (context?.for !== credentials) {
      context = {
        for: credentials,
        secure: createSecureContext({ cert: credentials.certChainPem, key: credentials.keyPem, ca: credentials.rootCertsPem }),
      };
    }
    return context.secure;
  };

  // requireHostHeader off: a request without Host gets our 400 (Deno's own check closes the connection silently)
  const http = createHttpServer({ keepAlive: true, requireHostHeader: false }, (req, res) => void handle(req, res));
  const sockets = new Set<Socket>();
  let draining = false;

  const refuse = (socket: Socket, reason: string) => {
    options.onRefused?.(reason, socket.remoteAddress ?? "");
    socket.destroy();
  };

  const net: NetServer = createNetServer({ pauseOnConnect: false }, (socket) => {
    if (draining) return void socket.destroy();
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => socket.destroy());
    socket.once("data", (first: Uint8Array) => {
      socket.pause();
      socket.unshift(first);
      socket.setTimeout(0);
      const accept = options.accept();
      const remoteAddress = socket.remoteAddress ?? "";
      const remotePort = socket.remotePort ?? 0;
      if (first[0] !== TLS_HANDSHAKE) {
        if (!accept.plaintext) return refuse(socket, "plaintext on a port that requires mTLS");
        (socket as PeerSocket).dietmeshConn = { remoteAddress, remotePort };
        http.emit("connection", socket);
        socket.resume();
        return;
      }
      const credentials = options.credentials();
      if (!accept.tls || !credentials) return refuse(socket, "TLS on a port that takes plaintext only");
      const tls = new TLSSocket(socket, {
        isServer: true,
        secureContext: secureContext(credentials),
        requestCert: accept.clientCertificate,
        rejectUnauthorized: accept.clientCertificate,
      });
      tls.setTimeout(HANDSHAKE_TIMEOUT_MS, () => tls.destroy());
      tls.on("error", (error: Error) => {
        options.onRefused?.(`TLS handshake failed: ${error.message}`, remoteAddress);
        tls.destroy();
      });
      tls.once("secure", async () => {
        tls.setTimeout(0);
        tls.pause();
        const conn: ConnInfo = { remoteAddress, remotePort, secure: true };
        if (accept.clientCertificate) {
          const peer = tls.getPeerCertificate(false);
          // a missing certificate leaves an empty object here
          if (!peer || !peer.raw) return refuse(tls, "no client certificate");
          const der = new Uint8Array(peer.raw);
          const problem = options.verifyPeer ? await options.verifyPeer(der) : "no peer verifier configured";
          if (problem) return refuse(tls, `client certificate refused: ${problem}`);
          conn.peer = { uris: uriSans(peer.subjectaltname), der };
        }
        if (tls.destroyed) return;
        (tls as unknown as PeerSocket).dietmeshConn = conn;
        http.emit("connection", tls);
        tls.resume();
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const conn = (req.socket as PeerSocket).dietmeshConn ?? { remoteAddress: req.socket.remoteAddress ?? "", remotePort: req.socket.remotePort ?? 0 };
    const raw = req.url ?? "/";
    // an absolute-form target names the authority (RFC 9112 §3.2.2); the handler gets its origin-form part
    const absolute = raw.charCodeAt(0) === 47 /* "/" */ || raw === "*" ? undefined : absoluteForm(raw);
    const target = absolute ? absolute.target : raw;
    let response: Response;
    const abort = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    let request: Request;
    try {
      request = toRequest(req, target, absolute?.authority, abort.signal);
    } catch {
      // a request no Request can describe (no Host, a bad Host, an unreadable absolute-form target): Envoy answers 400
      await writeResponse(res, new Response("Bad Request", { status: 400, headers: { connection: "close" } }));
      return;
    }
    try {
      response = await options.handler(request, { ...conn, target });
    } catch (error) {
      response = options.onError ? options.onError(error) : new Response(null, { status: 500 });
    }
    await writeResponse(res, response);
  }

  return new Promise((resolve, reject) => {
    net.once("error", reject);
    net.listen({ port: options.port, host: options.hostname, ...(options.reusePort ? { reusePort: true } : {}) }, () => {
      const address = net.address();
      const port = typeof address === "object" && address ? address.port : options.port;
      resolve({
        hostname: options.hostname,
        port,
        async stop(force = false) {
          draining = true;
          await new Promise<void>((done) => {
            net.close(() => done());
            http.closeIdleConnections?.();
            if (force) for (const s of sockets) s.destroy();
            else {
              // keep-alive connections close once their current response is written
              http.closeIdleConnections?.();
              const timer = setInterval(() => {
                http.closeIdleConnections?.();
                if (sockets.size === 0) {
                  clearInterval(timer);
                  done();
                }
              }, 50);
            }
          });
        },
      });
    });
  });
}

/** "URI:spiffe://a, DNS:x" → the URI entries (a SPIFFE ID has no comma or space in it) */
function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of subjectAltName.split(", ")) if (part.startsWith("URI:")) out.push(part.slice(4));
  return out;
}

/**
 * "http://authority/path?query" → the authority and the origin-form target, or undefined when the
 * target is neither form or its authority cannot name one host (userinfo, a comma; Envoy: 400)
 */
function absoluteForm(target: string): { authority: string; target: string } | undefined {
  const sep = target.indexOf("://");
  const scheme = sep === -1 ? "" : target.slice(0, sep).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return undefined;
  let end = sep + 3;
  while (end < target.length && target[end] !== "/" && target[end] !== "?") end++;
  const authority = target.slice(sep + 3, end);
  if (authority === "" || authority.includes("@") || authority.includes(",")) return undefined;
  const rest = target.slice(end);
  return { authority, target: rest.startsWith("/") ? rest : `/${rest}` };
}

/** absoluteAuthority: an absolute-form target's, which replaces Host */
function toRequest(req: IncomingMessage, target: string, absoluteAuthority: string | undefined, signal: AbortSignal): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const host = headers.get("host");
  // HTTP/1.1 requires Host (Envoy: 400); toRequest's caller turns the throw into that 400
  if (host === null) throw new TypeError("missing Host header");
  // not a request node:http can describe to us: an absolute-form target we could not read
  if (!target.startsWith("/") && target !== "*") throw new TypeError("bad request target");
  // two Host headers (appended above: "a, b"): the handler's host check answers Envoy's 400, but a
  // URL cannot hold that authority, so this one names none (the handler reads Host, not the URL)
  const twoHosts = host.includes(",");
  if (absoluteAuthority !== undefined && !twoHosts) headers.set("host", absoluteAuthority);
  const authority = twoHosts ? "host.invalid" : (absoluteAuthority ?? host);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && (req.headers["content-length"] !== undefined ? req.headers["content-length"] !== "0" : req.headers["transfer-encoding"] !== undefined);
  const path = target.startsWith("/") ? target : "/";
  return new Request(`http://${authority}${path}`, {
    method,
    headers,
    body: hasBody ? webStreamOf(req, () => new Error("client aborted")) : null,
    signal,
    // @ts-ignore: needed for a streamed request body, not yet in every lib.dom
    duplex: "half",
  });
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers.push(name, value);
  });
  for (const cookie of response.headers.getSetCookie()) headers.push("set-cookie", cookie);
  try {
    res.writeHead(response.status, response.statusText || undefined, headers);
    if (!response.body) return void res.end();
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", resolve));
      if (res.destroyed) {
        await reader.cancel();
        return;
      }
    }
    res.end();
  } catch {
    res.destroy();
  }
}
