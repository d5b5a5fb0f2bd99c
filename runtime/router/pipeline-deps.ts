// What the request pipeline is given rather than reaching for: the upstream client, randomness,
// request ids, the mirror sender and the observer. Built once, complete, before any listener
// opens (runtime/cli/proxy-core.ts); never changed afterwards. Tests pass their own.
import type { HttpClient } from "../platform/types.ts";
import type { Clock } from "../lib/clock.ts";
import type { ClusterStates } from "../upstream/cluster-state.ts";
import type { Observer } from "../telemetry/observe.ts";
import type { MirrorSender } from "./mirror.ts";
import type { Tracer } from "../telemetry/trace-context.ts";

export interface PipelineDeps {
  /** for mirrors and the inbound side; forwarding goes through each cluster's pool */
  readonly upstream: HttpClient;
  readonly clusters: ClusterStates;
  readonly clock: Clock;
  readonly random: () => number;
  /** a new x-request-id: a UUID, set on requests unchecked (it must be a valid header value) */
  readonly newRequestId: () => string;
  readonly mirror: MirrorSender;
  log(message: string): void;
  /** metrics and access log, when the process reports them */
  readonly observer?: Observer;
  /** trace-context propagation (traceparent, B3), when on */
  readonly tracer?: Tracer;
  /** this proxy's peer metadata (telemetry/peer-metadata.ts), sent to upstreams in the mesh */
  readonly peerMetadata?: string;
}
