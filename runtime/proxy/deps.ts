// The production PipelineDeps: the runtime's upstream client, Math.random, UUID request ids.
import { platform } from "../platform/index.ts";
import { createMirrorSender } from "./mirror.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { createClusterStates } from "./cluster-state.ts";
import { createConnectionPool } from "../platform/http1/index.ts";
import { systemClock } from "../resilience/clock.ts";

export function defaultDeps(log: (m: string) => void): PipelineDeps {
  const random = Math.random;
  return {
    upstream: platform.upstream,
    // each cluster owns its connections, so connectionPool limits hold on the wire
    clusters: createClusterStates((limits) => createConnectionPool(limits), systemClock),
    clock: systemClock,
    random,
    newRequestId: () => crypto.randomUUID(),
    mirror: createMirrorSender(platform.upstream, random),
    log,
  };
}
