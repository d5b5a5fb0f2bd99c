// The production PipelineDeps: the runtime's upstream client, Math.random, the clusters' pools.
import { platform } from "../platform/index.ts";
import { createMirrorSender } from "./mirror.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { createClusterStates } from "../upstream/cluster-state.ts";
import { createConnectionPool, defaultConnect, meshConnect } from "../upstream/http1/index.ts";
import { createHttp2Pool, speaksHttp2 } from "../upstream/http2/index.ts";
import { refuseTlsForHttp2 } from "../upstream/http2/refusal.ts";
import { createUpgradingPool } from "../upstream/http2/upgrade.ts";
import { connectHttp2 } from "../platform/index.ts";
import { createLogger } from "../cli/log.ts";
import type { MeshTls } from "../upstream/upstream-tls.ts";
import { systemClock } from "../lib/clock.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import { proxyClient } from "../upstream/default-client.ts";
import type { CredentialSource } from "../security/credential-source.ts";

/** the clusters' pools and state, on their own: telemetry reads them before the deps exist */
export function defaultClusters(mesh?: MeshTls, credentials?: CredentialSource): ClusterStates {
  // each cluster owns its connections, so connectionPool limits hold on the wire
  // a port declared HTTP2/GRPC gets HTTP/2 (h2c, or h2 inside mesh mTLS; never HTTP/1.1); the rest dietmesh's HTTP/1.1 pool
  const log = createLogger("http2");
  const warn = (message: string) => log(message, "warn");
  return createClusterStates(
    (limits, tlsFor, protocol) =>
      speaksHttp2(protocol)
        ? createHttp2Pool(limits, { connect: connectHttp2, tlsFor, refuse: refuseTlsForHttp2(tlsFor, protocol, warn) })
        : createUpgradingPool(limits, {
            http1: (l) => createConnectionPool(l, { connect: meshConnect(defaultConnect, tlsFor) }),
            // h2UpgradePolicy UPGRADE: HTTP/1.1 requests as HTTP/2 streams (upstream/http2/upgrade.ts)
            http2: (l) => createHttp2Pool(l, { connect: connectHttp2, tlsFor, refuse: refuseTlsForHttp2(tlsFor, `${protocol} (h2UpgradePolicy UPGRADE)`, warn) }),
          }),
    systemClock,
    mesh,
    credentials,
  );
}

export function defaultDeps(log: (m: string) => void, parts: Pick<PipelineDeps, "clusters" | "observer" | "tracer" | "newRequestId" | "peerMetadata">): PipelineDeps {
  const random = Math.random;
  return Object.freeze({
    upstream: proxyClient,
    clusters: parts.clusters,
    clock: systemClock,
    random,
    newRequestId: parts.newRequestId,
    mirror: createMirrorSender(proxyClient, random),
    log,
    observer: parts.observer,
    tracer: parts.tracer,
    peerMetadata: parts.peerMetadata,
  });
}
