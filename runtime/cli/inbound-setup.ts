// The sidecar's inbound listener, always dietmesh's own HTTP/1.1 server. Without a workload
// identity it listens in plaintext. With one, it takes mTLS and, as the effective
// PeerAuthentication mode for the app's port allows, plaintext: STRICT → mTLS only, PERMISSIVE →
// both, DISABLE → plaintext only. The mode is asked for every new connection (or, on Bun's native
// TLS listener, within RECHECK_MS), so a policy change applies to new connections; open ones keep
// what they were admitted with, as in Envoy. mTLS connections may choose HTTP/2 by ALPN ("h2",
// else "http/1.1"): their streams go through the same handler (filter chain), the peer's identity
// on each. A client that offers no ALPN (dietmesh's HTTP/1.1 client) is served HTTP/1.1 as before.
import { platform, type Server } from "../platform/index.ts";
import { listenData, listenMeshData, type ListenAddress } from "../exchange/listener.ts";
import type { DataHandler } from "../exchange/types.ts";
import type { WorkloadIdentity } from "../security/workload-identity.ts";
import { systemClock } from "../lib/clock.ts";
import type { HeadLimits } from "../exchange/http1/request-head.ts";
import { h2Streams as streamsOf } from "../exchange/http2/listen.ts";
import { localReply } from "../exchange/local-reply.ts";
import { ProxyError } from "../exchange/errors.ts";
import type { H2StreamHandler, MeshTlsOptions } from "../platform/http2-alpn.ts";

export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

export interface InboundSetup {
  address: ListenAddress;
  handler: DataHandler;
  identity: WorkloadIdentity | undefined;
  /** the app's port: what portLevelMtls keys on */
  appPort: number;
  mode: (port: number) => MtlsMode;
  log: (m: string) => void;
  /** request-head limits (--max-request-headers-kb, --max-request-headers) */
  limits?: HeadLimits;
}

type PeerVerifier = (der: Uint8Array) => Promise<string | null>;

export async function serveInbound(setup: InboundSetup): Promise<Server> {
  const { identity, log } = setup;
  if (!identity) return listenData(setup.address, setup.handler, log, { limits: setup.limits });
  const { createPeerVerifier } = await import("../security/peer-verifier.ts");
  const verifyPeer = createPeerVerifier(identity.current, systemClock);
  const http2 = h2Streams(setup);
  if (platform.nativeMtlsListener) return serveNativeMesh(setup, identity, verifyPeer, http2);
  return listenMeshData(setup.address, setup.handler, log, {
    limits: setup.limits,
    credentials: identity.current,
    verifyPeer,
    onRefused: (reason, remote) => log(`inbound: refused ${remote}: ${reason}`),
    accept() {
      const mode = setup.mode(setup.appPort);
      return { plaintext: mode !== "STRICT", tls: mode !== "DISABLE", clientCertificate: true, http2 };
    },
  });
}

/** the streams of mTLS connections that negotiated h2: the inbound handler and head limits, as for HTTP/1.1 */
function h2Streams(setup: InboundSetup): H2StreamHandler {
  return streamsOf(
    setup.handler,
    (error) => {
      setup.log(`inbound h2: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal"));
    },
    setup.limits,
  );
}

/** how often the native mesh listener looks for a new certificate or mTLS mode */
const RECHECK_MS = 250;

/**
 * The mesh listener on Bun's native TLS: STRICT ports take mTLS only and are served by a TLS
 * listener; DISABLE ports by a plaintext one; PERMISSIVE ports, which must tell TLS from plaintext
 * by the first byte, by the sniffing mesh listener (Bun cannot start server TLS on a socket whose
 * first bytes were read). Bun's TLS listener keeps its certificate for life, so a renewal or a mode
 * change starts a successor on the same port (SO_REUSEPORT) and then drains the old one: open
 * connections finish, new ones go to the new listener.
 */
async function serveNativeMesh(setup: InboundSetup, identity: WorkloadIdentity, verifyPeer: PeerVerifier, http2: H2StreamHandler): Promise<Server> {
  const { log } = setup;
  type Kind = "tls" | "plain" | "sniff";
  const kindNow = (): Kind => {
    const mode = setup.mode(setup.appPort);
    return mode === "STRICT" ? "tls" : mode === "DISABLE" ? "plain" : "sniff";
  };
  const onRefused = (reason: string, remote: string) => log(`inbound: refused ${remote}: ${reason}`);
  const start = async (kind: Kind, port: number): Promise<Server> => {
    const address = { hostname: setup.address.hostname, port };
    if (kind === "sniff") {
      return listenMeshData(address, setup.handler, log, {
        credentials: identity.current,
        verifyPeer,
        onRefused,
        reusePort: true,
        limits: setup.limits,
        accept: () => ({ plaintext: true, tls: true, clientCertificate: true, http2 }),
      });
    }
    const tls: MeshTlsOptions = { credentials: identity.current()!, clientCertificate: true, http2 };
    return listenData(address, setup.handler, log, {
      tls: kind === "tls" ? tls : undefined,
      verifyPeer,
      onRefused,
      reusePort: true,
      limits: setup.limits,
    });
  };
  let kind = kindNow();
  let credentials = identity.current();
  let current = await start(kind, setup.address.port);
  let switching = false;
  const recheck = async () => {
    if (switching) return;
    const nextKind = kindNow();
    const nextCredentials = identity.current();
    if (nextKind === kind && (kind !== "tls" || nextCredentials === credentials)) return;
    switching = true;
    try {
      const successor = await start(nextKind, current.port);
      const old = current;
      current = successor;
      kind = nextKind;
      credentials = nextCredentials;
      void old.stop();
    } catch (error) {
      log(`inbound: cannot switch the listener: ${(error as Error).message}`);
    } finally {
      switching = false;
    }
  };
  const timer = setInterval(() => void recheck(), RECHECK_MS);
  (timer as unknown as { unref?: () => void }).unref?.();
  return {
    hostname: current.hostname,
    get port() {
      return current.port;
    },
    async stop(force?: boolean) {
      clearInterval(timer);
      await current.stop(force);
    },
  };
}
