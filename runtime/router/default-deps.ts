// The production PipelineDeps: the runtime's upstream client, Math.random, UUID request ids.
import { platform } from "../platform/index.ts";
import { createMirrorSender } from "./mirror.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { createClusterStates } from "../upstream/cluster-state.ts";
import { createConnectionPool, defaultConnect, meshConnect } from "../platform/http1/index.ts";
import type { MeshTls } from "../upstream/upstream-tls.ts";
import { systemClock } from "../lib/clock.ts";

export function defaultDeps(log: (m: string) => void, mesh?: MeshTls): PipelineDeps {
  const random = Math.random;
  return {
    upstream: platform.upstream,
    // each cluster owns its connections, so connectionPool limits hold on the wire
    clusters: createClusterStates((limits, tlsFor) => createConnectionPool(limits, { connect: meshConnect(defaultConnect, tlsFor) }), systemClock, mesh),
    clock: systemClock,
    random,
    newRequestId: () => crypto.randomUUID(),
    mirror: createMirrorSender(platform.upstream, random),
    log,
  };
}
