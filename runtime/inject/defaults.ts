// What `dietmesh inject` writes into a pod, in one place: the sidecar's ports, paths, names and
// annotations, and the defaults of the command's flags.
import pkg from "../../package.json" with { type: "json" };

export const SIDECAR_NAME = "dietmesh-proxy";
// the image `npm run image` builds: its name (package.json config.image) and the package version
export const DEFAULT_IMAGE = `${pkg.config.image}:${pkg.version}`;
export const DEFAULT_CA_ADDRESS = "https://dietmesh-ca.dietmesh-system.svc:15012";

/** admin stays on the pod's loopback; status (probes, merged metrics) is what the kubelet and Prometheus reach */
export const PORTS = { inbound: 15006, outbound: 15001, admin: 15000, status: 15020 } as const;
/** container port names are IANA service names: at most 15 characters */
export const PORT_NAMES = { inbound: "dietmesh-in", status: "http-envoy-prom" } as const;

/** Prometheus' scrape annotations, rewritten to the status port as Istio's metrics merging does */
export const PROMETHEUS = { scrape: "prometheus.io/scrape", port: "prometheus.io/port", path: "prometheus.io/path", defaultPath: "/metrics" } as const;

export const TOKEN = { volume: "dietmesh-token", dir: "/var/run/secrets/tokens", file: "dietmesh-token", audience: "istio-ca", expirationSeconds: 43200 } as const;
export const CA_ROOT = { volume: "dietmesh-ca-root", dir: "/var/run/dietmesh/ca", configMap: "dietmesh-ca-root", file: "root-cert.pem" } as const;

export const ANNOTATIONS = {
  /** what was injected (JSON); its presence makes inject a no-op */
  status: "sidecar.dietmesh.io/status",
  /** the port inbound calls go to, when it is not the first container's first port */
  appPort: "dietmesh.io/app-port",
  /** Istio's own injection record: Kiali counts a pod as injected by its presence */
  istioStatus: "sidecar.istio.io/status",
  /** Istio's opt-out, as annotation or label: "false" leaves the pod alone */
  inject: "sidecar.istio.io/inject",
} as const;

/** the app's env: its outgoing calls go through the sidecar's outbound listener */
export const PROXY_ENV: readonly [string, string][] = [
  ["HTTP_PROXY", `http://127.0.0.1:${PORTS.outbound}`],
  ["http_proxy", `http://127.0.0.1:${PORTS.outbound}`],
  ["NO_PROXY", "localhost,127.0.0.1"],
  ["no_proxy", "localhost,127.0.0.1"],
];

export interface InjectOptions {
  image: string;
  /** https://host:port of `dietmesh ca serve` */
  caAddress: string;
  /** overrides every workload's app port */
  appPort?: number;
}
