// The injected sidecar as a Kubernetes native sidecar: an init container with restartPolicy Always
// (SidecarContainers, on by default since 1.29). It starts before the app containers and, thanks to
// its startupProbe on /healthz/ready, they start only once it serves (Istio's
// holdApplicationUntilProxyStarts); it stops after them, so a Job's pod completes when its app exits.
import type { AppProbe } from "../admin/app-health.ts";
import { CA_ROOT, PORT_NAMES, PORTS, SIDECAR_NAME, TOKEN, type InjectOptions } from "./defaults.ts";
import type { Obj } from "./pod-template.ts";

export interface SidecarInputs {
  serviceAccount: string;
  labels: Record<string, string>;
  /** the app's port; without one the sidecar only proxies outgoing calls */
  appPort?: number;
  probes: Record<string, AppProbe>;
  /** the app's own Prometheus endpoint (from its prometheus.io annotations), merged on the status port */
  appMetrics?: string;
}

/** Kubernetes expands $(VAR) in args; a literal "$(" has to be written "$$(" */
const literal = (text: string) => text.replaceAll("$(", "$$(");

export function sidecarArgs(inputs: SidecarInputs, options: InjectOptions): string[] {
  const labels = Object.entries(inputs.labels).map(([k, v]) => `${k}=${v}`).join(",");
  return [
    "sidecar",
    "--registry", "kubernetes",
    "--namespace", "$(POD_NAMESPACE)",
    "--service-account", literal(inputs.serviceAccount),
    ...(labels ? ["--labels", literal(labels)] : []),
    ...(inputs.appPort !== undefined ? ["--app", `127.0.0.1:${inputs.appPort}`, "--inbound", `0.0.0.0:${PORTS.inbound}`] : []),
    "--outbound", `127.0.0.1:${PORTS.outbound}`,
    "--admin", `127.0.0.1:${PORTS.admin}`,
    "--status", `0.0.0.0:${PORTS.status}`,
    ...(inputs.appMetrics ? ["--app-metrics", literal(inputs.appMetrics)] : []),
    "--ca", literal(options.caAddress),
    "--ca-root", `${CA_ROOT.dir}/${CA_ROOT.file}`,
    "--token", `${TOKEN.dir}/${TOKEN.file}`,
    ...(Object.keys(inputs.probes).length ? ["--app-probes", literal(JSON.stringify(inputs.probes))] : []),
  ];
}

const ready = { httpGet: { path: "/healthz/ready", port: PORTS.status, scheme: "HTTP" } };

export function sidecarContainer(inputs: SidecarInputs, options: InjectOptions): Obj {
  return {
    name: SIDECAR_NAME,
    image: options.image,
    restartPolicy: "Always",
    args: sidecarArgs(inputs, options),
    env: [
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      // the API server's CA for the runtime's own fetch too (the registry passes ca.crt to its TLS fetch itself)
      { name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
    ],
    ports: [
      ...(inputs.appPort !== undefined ? [{ name: PORT_NAMES.inbound, containerPort: PORTS.inbound, protocol: "TCP" }] : []),
      { name: PORT_NAMES.status, containerPort: PORTS.status, protocol: "TCP" },
    ],
    startupProbe: { ...ready, periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 },
    readinessProbe: { ...ready, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
    // a loaded sidecar holds about 100 MB (docs/performance.md); the limit leaves room for a large
    // mesh's config (issue 11) without letting a runaway proxy take the node
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1337,
      runAsGroup: 1337,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      // Pod Security "restricted" wants a seccomp profile on every container
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: TOKEN.volume, mountPath: TOKEN.dir, readOnly: true },
      { name: CA_ROOT.volume, mountPath: CA_ROOT.dir, readOnly: true },
    ],
  };
}

/** the bound service-account token the CA accepts (audience istio-ca), and the mesh root */
export function sidecarVolumes(): Obj[] {
  return [
    { name: TOKEN.volume, projected: { sources: [{ serviceAccountToken: { audience: TOKEN.audience, expirationSeconds: TOKEN.expirationSeconds, path: TOKEN.file } }] } },
    { name: CA_ROOT.volume, configMap: { name: CA_ROOT.configMap } },
  ];
}
