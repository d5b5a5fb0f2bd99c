// The external service of Istio's mutual-TLS egress tasks: nginx with `ssl_verify_client on`, as a
// raw TLS server with a hand-written HTTP/1.1 answer (Bun's node:https request socket has no
// getPeerCertificate). It asks every client for a certificate; one signed by `ca` gets nginx's
// welcome page, none (or another CA's) gets nginx's 400. Each request's SNI and client CN are kept
// in `seen`, for the tests to check what the proxy presented.
import * as tls from "node:tls";
import type { AddressInfo } from "node:net";

export const NGINX_WELCOME = "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n</html>\n";
const NO_CERTIFICATE = "<html>\n<head><title>400 No required SSL certificate was sent</title></head>\n</html>\n";

export interface NginxMutualTls {
  port: number;
  /** one entry per request: the SNI the client sent, the CN of its verified certificate ("" if none) */
  seen: { sni: string; client: string }[];
  close(): void;
}

/** key, cert, ca: PEM text */
export async function startNginxMutualTls(pem: { key: string; cert: string; ca: string }): Promise<NginxMutualTls> {
  const seen: { sni: string; client: string }[] = [];
  const server = tls.createServer({ ...pem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    socket.on("error", () => {});
    socket.once("data", () => {
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      seen.push({ sni: (socket as unknown as { servername?: string }).servername ?? "", client: (peer?.subject?.CN as string | undefined) ?? "" });
      const [status, body] = socket.authorized ? ["200 OK", NGINX_WELCOME] : ["400 Bad Request", NO_CERTIFICATE];
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/html\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { port: (server.address() as AddressInfo).port, seen, close: () => server.close() };
}
