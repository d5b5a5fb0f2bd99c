// `dietmesh sidecar`'s flags, apart from the command: the library reads its options through the
// same spec (library/mesh.ts) and so does not load the sidecar's listeners and L4 code with it.
import type { CommandSpec } from "./args.ts";
import { logFlags } from "./log.ts";
import { drainFlag } from "./lifecycle.ts";
import { identityFlags } from "./identity-setup.ts";
import { dnsFlags, headLimitFlags } from "./proxy-core.ts";
import { credentialsDirFlag } from "./credential-setup.ts";

/** flags the sidecar and the gateway share, spelled once (gateway.ts uses them too) */
export const configFlag = { name: "config", kind: "list", value: "PATH", help: "Istio YAML file or directory; watched for changes" } as const;
export const registryFlags = [
  { name: "registry", kind: "list", value: "SOURCE", help: "service discovery: static (ServiceEntry/WorkloadEntry in --config), consul[=URL] or kubernetes[=NAMESPACE] (also Istio config); several merge, the first listed wins a host (default static)" },
  { name: "kubeconfig", kind: "string", value: "FILE", help: "with --registry kubernetes: the cluster to watch (default: the pod's own cluster, else $KUBECONFIG)" },
] as const;
export const traceFlags = [
  { name: "otlp-endpoint", kind: "string", value: "URL", help: "export sampled spans as OTLP/HTTP JSON to URL/v1/traces" },
  { name: "trace-sampling", kind: "string", value: "PERCENT", help: "share of new traces sampled, 0-100, default 1 (an incoming decision is always kept); needs --otlp-endpoint" },
] as const;
/** Istio's cluster ID (ISTIO_META_CLUSTER_ID): this proxy's side of source_cluster / destination_cluster, sent to peers in its metadata */
export const clusterIdFlag = { name: "cluster-id", kind: "string", value: "ID", default: "Kubernetes", help: "the cluster this workload runs in, for Istio's source_cluster and destination_cluster labels (Istio's default: Kubernetes)" } as const;
export const accessLogFlag = { name: "access-log", kind: "string", value: "FORMAT", default: "off", help: "access log on stdout: off, text (Istio's format) or json; an Istio Telemetry resource can also turn it on" } as const;

export const sidecarSpec: CommandSpec = {
  name: "sidecar",
  summary: "Run the sidecar proxy beside one workload.",
  usage: "dietmesh sidecar --config PATH... [flags]",
  flags: [
    configFlag,
    { name: "outbound", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15001", help: "listener for the app's outgoing calls (HTTP_PROXY or Host-routed)" },
    { name: "inbound", kind: "string", value: "HOST:PORT", default: "0.0.0.0:15006", help: "listener for calls to the app (only with --app)" },
    { name: "app", kind: "string", value: "HOST:PORT", help: "the local app that inbound calls are forwarded to" },
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "admin listener: /ready, /config_dump, /clusters" },
    ...registryFlags,
    ...traceFlags,
    clusterIdFlag,
    { name: "consul-register", kind: "string", value: "AGENT_URL", help: "register the workload (inbound listener, labels as Meta, a TTL check) with this Consul agent; deregister on drain (needs --app)" },
    drainFlag,
    accessLogFlag,
    { name: "namespace", kind: "string", value: "NS", default: "default", help: "the workload's namespace; also the namespace of resources that name none" },
    { name: "service-account", kind: "string", value: "SA", default: "default", help: "the workload's service account (its identity)" },
    { name: "labels", kind: "string", value: "k=v,...", default: "", help: "the workload's labels (for sourceLabels matches)" },
    { name: "outbound-traffic-policy", kind: "string", value: "MODE", help: "meshConfig outboundTrafficPolicy.mode where no Sidecar resource sets one: ALLOW_ANY (Istio's default: unknown hosts passed through) or REGISTRY_ONLY (502); unset: 404 NR" },
    credentialsDirFlag,
    ...identityFlags,
    ...headLimitFlags,
    ...dnsFlags,
    ...logFlags,
    { name: "path-normalization", kind: "string", value: "MODE", default: "BASE", help: "meshConfig pathNormalization for inbound requests: NONE, BASE, MERGE_SLASHES or DECODE_AND_MERGE_SLASHES" },
    { name: "status", kind: "string", value: "HOST:PORT", help: "status listener for the kubelet and Prometheus (Istio's 15020/15021): /healthz/ready, /app-health/..., /stats/prometheus with --app-metrics merged; nothing else" },
    { name: "app-metrics", kind: "string", value: "URL", help: "the app's Prometheus endpoint (e.g. http://127.0.0.1:9090/metrics), merged into the status listener's /stats/prometheus" },
    { name: "app-probes", kind: "string", value: "JSON", help: "the app's HTTP probes by path, answered on the status (and admin) listener at /app-health/<container>/<livez|readyz|startupz> (written by dietmesh inject)" },
  ],
};
