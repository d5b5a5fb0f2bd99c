// Injects the sidecar into one pod template, in place: the native sidecar first among the init
// containers, the token and CA-root volumes, HTTP_PROXY for every app container, HTTP probes
// rewritten through the sidecar, and the status annotation that makes a second run a no-op.
import type { AppProbe } from "../admin/app-health.ts";
import { rewriteProbes } from "./app-probes.ts";
import { ANNOTATIONS, PORTS, PROMETHEUS, PROXY_ENV, SIDECAR_NAME, type InjectOptions } from "./defaults.ts";
import { InjectError, type FieldPath } from "./errors.ts";
import { isObject, type Obj, type PodTemplate } from "./pod-template.ts";
import { sidecarContainer, sidecarVolumes } from "./sidecar-container.ts";

export interface InjectedPod {
  outcome: "injected" | "already" | "skipped";
  /** why the pod was skipped, or things worth knowing about it */
  notes: string[];
  labels: Record<string, string>;
  /** the port inbound calls go to, and its name in the app container, if any */
  appPort?: number;
  appPortName?: string;
}

export interface InjectionStatus {
  image: string;
  initContainers: string[];
  volumes: string[];
  appPort: number | null;
  probes: string[];
}

const OPT_OUT = new Set(["false", "no", "n", "off"]);
const SIDECAR_PORTS: ReadonlySet<number> = new Set(Object.values(PORTS));

function stringMap(value: unknown, at: FieldPath): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new InjectError("invalid-field", at, "expected a mapping of strings");
  // YAML 1.1 reads an unquoted 2024-01-01 as a timestamp; Kubernetes keeps the text
  const text = (v: unknown) => (v instanceof Date ? v.toISOString().replace(/T00:00:00\.000Z$/, "") : String(v));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, text(v)]));
}

function list(value: unknown, at: FieldPath): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InjectError("invalid-field", at, "expected a list");
  return value;
}

function portNumber(value: unknown, at: FieldPath): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) throw new InjectError("invalid-field", at, `expected a port number (1-65535), got ${JSON.stringify(value) ?? "nothing"}`);
  if (SIDECAR_PORTS.has(n)) throw new InjectError("port-conflict", at, `port ${n} is the sidecar's (${[...SIDECAR_PORTS].sort().join(", ")} are taken in an injected pod)`);
  return n;
}

/** --app-port, else the dietmesh.io/app-port annotation, else the first port of the first container */
function appPortOf(pod: PodTemplate, containers: Obj[], options: InjectOptions): number | undefined {
  if (options.appPort !== undefined) return options.appPort;
  const annotation = isObject(pod.metadata.annotations) ? pod.metadata.annotations[ANNOTATIONS.appPort] : undefined;
  const at = [...pod.at, "metadata", "annotations", ANNOTATIONS.appPort];
  if (annotation !== undefined) {
    if (typeof annotation !== "string") throw new InjectError("invalid-field", at, `expected a string such as "8080" (annotations are strings)`);
    return portNumber(annotation, at);
  }
  const first = list(containers[0].ports, [...pod.at, "spec", "containers", 0, "ports"])[0];
  return isObject(first) ? portNumber(first.containerPort, [...pod.at, "spec", "containers", 0, "ports", 0, "containerPort"]) : undefined;
}

function alreadyInjected(pod: PodTemplate, annotations: Record<string, string>): boolean {
  if (ANNOTATIONS.status in annotations) return true;
  const all = [...list(pod.spec.initContainers, []), ...list(pod.spec.containers, [])];
  return all.some((c) => isObject(c) && c.name === SIDECAR_NAME);
}

function recordedAppPort(annotations: Record<string, string>): number | undefined {
  try {
    const status = JSON.parse(annotations[ANNOTATIONS.status] ?? "{}") as Partial<InjectionStatus>;
    return typeof status.appPort === "number" ? status.appPort : undefined;
  } catch {
    return undefined;
  }
}

function addProxyEnv(container: Obj, at: FieldPath): void {
  const env = list(container.env, [...at, "env"]);
  const named = new Set(env.map((e) => (isObject(e) ? e.name : undefined)));
  for (const [name, value] of PROXY_ENV) if (!named.has(name)) env.push({ name, value });
  container.env = env;
}

/** the app's own metrics endpoint, when its pod asks Prometheus to scrape it (Istio reads the same annotations) */
function scrapeTarget(annotations: Record<string, string>, at: (string | number)[]): string | undefined {
  if (annotations[PROMETHEUS.scrape] !== "true") return undefined;
  const port = annotations[PROMETHEUS.port];
  if (port === undefined) return undefined;
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InjectError("invalid-field", [...at, PROMETHEUS.port], `expected a port number, got "${port}"`);
  const path = annotations[PROMETHEUS.path] ?? PROMETHEUS.defaultPath;
  return `http://127.0.0.1:${n}${path.startsWith("/") ? path : `/${path}`}`;
}

export function injectPod(pod: PodTemplate, options: InjectOptions): InjectedPod {
  const metaAt = [...pod.at, "metadata"];
  const specAt = [...pod.at, "spec"];
  const labels = stringMap(pod.metadata.labels, [...metaAt, "labels"]);
  const annotations = stringMap(pod.metadata.annotations, [...metaAt, "annotations"]);
  if (alreadyInjected(pod, annotations)) return { outcome: "already", notes: [], labels, appPort: recordedAppPort(annotations) };
  const optOut = annotations[ANNOTATIONS.inject] ?? labels[ANNOTATIONS.inject];
  if (optOut !== undefined && OPT_OUT.has(optOut.toLowerCase())) return { outcome: "skipped", notes: [`${ANNOTATIONS.inject} is "${optOut}"`], labels };
  if (pod.spec.hostNetwork === true) return { outcome: "skipped", notes: ["hostNetwork pods share the node's ports, so a sidecar's would collide"], labels };

  const containers = list(pod.spec.containers, [...specAt, "containers"]);
  if (!containers.length) throw new InjectError("invalid-field", [...specAt, "containers"], "a pod needs at least one container");
  containers.forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== "string" || !c.name) throw new InjectError("invalid-field", [...specAt, "containers", i, "name"], "every container needs a name");
    list(c.ports, [...specAt, "containers", i, "ports"]).forEach((p, j) => {
      if (isObject(p)) portNumber(p.containerPort, [...specAt, "containers", i, "ports", j, "containerPort"]);
    });
  });
  const apps = containers as Obj[];
  const appPort = appPortOf(pod, apps, options);
  const appPortName = apps.flatMap((c) => list(c.ports, [])).find((p) => isObject(p) && p.containerPort === appPort && typeof p.name === "string") as Obj | undefined;

  const probes: Record<string, AppProbe> = {};
  apps.forEach((c, i) => {
    Object.assign(probes, rewriteProbes(c, [...specAt, "containers", i]));
    addProxyEnv(c, [...specAt, "containers", i]);
  });

  const volumes = list(pod.spec.volumes, [...specAt, "volumes"]);
  const added = sidecarVolumes();
  volumes.forEach((v, i) => {
    if (isObject(v) && added.some((a) => a.name === v.name)) throw new InjectError("name-conflict", [...specAt, "volumes", i, "name"], `the sidecar needs the volume name "${v.name}"`);
  });
  const serviceAccount = String(pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? "default");
  const appMetrics = scrapeTarget(annotations, [...metaAt, "annotations"]);
  pod.spec.initContainers = [sidecarContainer({ serviceAccount, labels, appPort, probes, appMetrics }, options), ...list(pod.spec.initContainers, [...specAt, "initContainers"])];
  pod.spec.volumes = [...volumes, ...added];

  const status: InjectionStatus = { image: options.image, initContainers: [SIDECAR_NAME], volumes: added.map((v) => String(v.name)), appPort: appPort ?? null, probes: Object.keys(probes) };
  pod.metadata.annotations = {
    ...(isObject(pod.metadata.annotations) ? pod.metadata.annotations : {}),
    [ANNOTATIONS.status]: JSON.stringify(status),
    // Istio's shape (Kiali reads only that it is there): the sidecar is an init container here
    [ANNOTATIONS.istioStatus]: JSON.stringify({ initContainers: [SIDECAR_NAME], containers: [], volumes: status.volumes, imagePullSecrets: null, revision: "dietmesh" }),
    // one scrape target per pod: the status port serves the sidecar's metrics and the app's
    [PROMETHEUS.scrape]: "true",
    [PROMETHEUS.port]: String(PORTS.status),
    [PROMETHEUS.path]: "/stats/prometheus",
  };

  const notes: string[] = [];
  if (appPort === undefined) notes.push(`no app port (no containerPort, no ${ANNOTATIONS.appPort} annotation): the sidecar proxies outgoing calls only`);
  if (pod.spec.automountServiceAccountToken === false) notes.push("automountServiceAccountToken is false: the sidecar cannot read the Kubernetes API (--registry kubernetes)");
  return { outcome: "injected", notes, labels, appPort, appPortName: appPortName ? String(appPortName.name) : undefined };
}
