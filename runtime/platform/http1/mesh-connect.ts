// The HTTP/1.1 client's Connect with mTLS: TLS to the addresses a TlsTarget names (mesh mTLS to
// peer sidecars, origination to servers outside the mesh), plaintext to the rest. Mesh mTLS on Bun
// uses its native TLS sockets (bun-transport.ts); node:tls (tls-transport.ts) carries origination,
// and mesh mTLS on Deno. That module, with node:tls, node:net and node's streams behind it, is
// ~10 ms of Bun's cold start that a mesh in process with no TLS upstream never needs: it loads on
// the first connection that does, which waits for it (PendingTransport) once.
import type { TlsTarget } from "./tls-transport.ts";
import type { Connect, Transport, TransportHandler } from "./transport.ts";

type ConnectTls = (host: string, port: number, handler: TransportHandler, target: TlsTarget) => Transport;

let nodeTls: ConnectTls | undefined;
let loadingNodeTls: Promise<ConnectTls> | undefined;
const loadNodeTls = () => (loadingNodeTls ??= import("./tls-transport.ts").then((m) => (nodeTls = m.nodeConnectTls)));

const nodeConnectTls: ConnectTls = (host, port, handler, target) =>
  nodeTls ? nodeTls(host, port, handler, target) : new PendingTransport(loadNodeTls().then((connect) => (h) => connect(host, port, h, target)), handler);

const bunMeshTls: ConnectTls | undefined = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? (await import("./bun-transport.ts")).bunConnectTls : undefined;

const connectTls: ConnectTls = (host, port, handler, target) =>
  !target.origination && bunMeshTls ? bunMeshTls(host, port, handler, target) : nodeConnectTls(host, port, handler, target);

/** a Connect that speaks mTLS to the addresses targetFor() names and plaintext (via plain) to the rest */
export function meshConnect(plain: Connect, targetFor: (host: string, port: number) => TlsTarget | null): Connect {
  return (host, port, handler) => {
    const target = targetFor(host, port);
    return target ? connectTls(host, port, handler, target) : plain(host, port, handler);
  };
}

/**
 * A transport whose socket opens once its module has loaded: what the caller does before then
 * (write, pause, ref, end, destroy) is kept and applied in order to the real transport, which
 * reports to the handler directly. Destroyed before then: nothing opens and nothing is reported.
 */
export class PendingTransport implements Transport {
  private real: Transport | undefined;
  private readonly queued: Uint8Array[] = [];
  private paused = false;
  private referenced = true;
  private ended = false;
  private destroyed = false;

  constructor(open: Promise<(handler: TransportHandler) => Transport>, handler: TransportHandler) {
    open.then(
      (make) => {
        if (this.destroyed) return;
        const real = (this.real = make(handler));
        if (!this.referenced) real.ref(false);
        if (this.paused) real.pause();
        for (const chunk of this.queued.splice(0)) real.write(chunk);
        if (this.ended) real.end();
      },
      (error: Error) => {
        if (!this.destroyed) handler.onClose(error);
      },
    );
  }

  write(data: Uint8Array): boolean {
    if (this.real) return this.real.write(data);
    this.queued.push(data);
    return true;
  }
  pause(): void {
    this.paused = true;
    this.real?.pause();
  }
  resume(): void {
    this.paused = false;
    this.real?.resume();
  }
  ref(on: boolean): void {
    this.referenced = on;
    this.real?.ref(on);
  }
  end(): void {
    this.ended = true;
    this.real?.end();
  }
  destroy(): void {
    this.destroyed = true;
    this.real?.destroy();
  }
}
