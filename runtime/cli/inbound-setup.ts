// The sidecar's inbound listener. Without a workload identity it is the runtime's plain HTTP
// server (fastest). With one, it is the mesh listener, which takes mTLS and, as the effective
// PeerAuthentication mode for the app's port allows, plaintext: STRICT → mTLS only, PERMISSIVE →
// both, DISABLE → plaintext only. The mode is asked for every new connection, so a policy change
// applies to new connections at once (open ones keep what they were admitted with, as in Envoy).
import { serveMesh, type FetchHandler, type Server } from "../platform/index.ts";
import { listen, type ListenAddress } from "../proxy/listener.ts";
import { localReply } from "../proxy/local-reply.ts";
import { ProxyError } from "../proxy/errors.ts";
import type { WorkloadIdentity } from "../security/workload-identity.ts";
import { systemClock } from "../resilience/clock.ts";

export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";

export interface InboundSetup {
  address: ListenAddress;
  handler: FetchHandler;
  identity: WorkloadIdentity | undefined;
  /** the app's port: what portLevelMtls keys on */
  appPort: number;
  mode: (port: number) => MtlsMode;
  log: (m: string) => void;
}

export async function serveInbound(setup: InboundSetup): Promise<Server> {
  const { identity, log } = setup;
  if (!identity) return listen(setup.address, setup.handler, log);
  const { createPeerVerifier } = await import("../security/peer-verifier.ts");
  return serveMesh({
    hostname: setup.address.hostname,
    port: setup.address.port,
    handler: setup.handler,
    onError(error) {
      log(`inbound: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal"));
    },
    credentials: identity.current,
    verifyPeer: createPeerVerifier(identity.current, systemClock),
    onRefused: (reason, remote) => log(`inbound: refused ${remote}: ${reason}`),
    accept() {
      const mode = setup.mode(setup.appPort);
      return { plaintext: mode !== "STRICT", tls: mode !== "DISABLE", clientCertificate: true };
    },
  });
}
