// What the real API server does to each built-in kind on create and update, reduced to what a
// client can observe: defaulted fields (a Service's clusterIP, type, targetPort; a Pod's
// serviceAccountName, restartPolicy, phase), validation with the server's messages, immutable
// fields, and the admission checks clients hit most (a Pod's service account must exist).
import { badValue, failure, invalid, required, type StatusCause } from "./status.ts";
import type { ResourceType } from "./resources.ts";
import type { KubeObject } from "./store.ts";
import type { Obj } from "./objects.ts";

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function nameProblem(t: ResourceType, name: string): string | undefined {
  if (t.kind === "Service") {
    if (name.length > 63 || !LABEL_1035.test(name)) return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
  } else if (t.kind === "Namespace") {
    if (name.length > 63 || !LABEL_1123.test(name)) return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  } else if (name.length > 253 || !SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return undefined;
}

/** what the kind's handlers need from the rest of the server */
export interface KindContext {
  /** a free cluster IP from 10.96.0.0/12 */
  allocateClusterIP(): string;
  /** a free node port from 30000-32767 */
  allocateNodePort(): number;
  serviceAccountExists(namespace: string, name: string): boolean;
}

function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? "default";
  spec.serviceAccount = spec.serviceAccountName;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const tag = String(c.image ?? "").split("/").pop() ?? "";
    c.imagePullPolicy ??= !tag.includes(":") || tag.endsWith(":latest") ? "Always" : "IfNotPresent";
    c.terminationMessagePath ??= "/dev/termination-log";
    c.terminationMessagePolicy ??= "File";
    c.resources ??= {};
    for (const p of c.ports ?? []) p.protocol ??= "TCP";
  }
}

function podSpecCauses(spec: Obj | undefined, at: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!Array.isArray(spec?.containers) || spec.containers.length === 0) return [required(`${at}.containers`)];
  spec.containers.forEach((c: Obj, i: number) => {
    if (!c.name) causes.push(required(`${at}.containers[${i}].name`));
    if (!c.image) causes.push(required(`${at}.containers[${i}].image`));
  });
  return causes;
}

function duplicatePortNames(ports: Obj[]): StatusCause[] {
  const seen = new Set<string>();
  const causes: StatusCause[] = [];
  ports.forEach((p, i) => {
    if (p.name && seen.has(p.name)) causes.push({ reason: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(p.name)}`, field: `spec.ports[${i}].name` });
    if (p.name) seen.add(p.name);
  });
  return causes;
}

const matchesSelector = (labels: Obj = {}, selector: Obj = {}) =>
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** defaults and checks a new object of a built-in kind (metadata is already filled in) */
export function onCreate(t: ResourceType, o: KubeObject, ctx: KindContext): void {
  const obj = o as Obj;
  const causes: StatusCause[] = [];
  switch (t.kind) {
    case "Secret":
      causes.push(...secretProblems(obj));
      break;
    case "Namespace":
      obj.spec = { finalizers: ["kubernetes"], ...obj.spec };
      obj.status = { phase: "Active" };
      obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name };
      break;
    case "Service": {
      const spec = (obj.spec ??= {});
      spec.type ??= "ClusterIP";
      if (spec.type === "ExternalName") {
        if (!spec.externalName) causes.push(required("spec.externalName"));
      } else {
        if (!spec.clusterIP) spec.clusterIP = ctx.allocateClusterIP();
        spec.clusterIPs = [spec.clusterIP];
        spec.ipFamilies ??= ["IPv4"];
        spec.ipFamilyPolicy ??= "SingleStack";
        spec.internalTrafficPolicy ??= "Cluster";
        if (spec.clusterIP !== "None" && !(spec.ports?.length)) causes.push(required("spec.ports"));
      }
      spec.sessionAffinity ??= "None";
      if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
      const ports: Obj[] = spec.ports ?? [];
      ports.forEach((p, i) => {
        p.protocol ??= "TCP";
        if (!(Number.isInteger(p.port) && p.port > 0 && p.port < 65536)) causes.push(badValue(`spec.ports[${i}].port`, p.port, "must be between 1 and 65535, inclusive"));
        if (spec.type !== "ExternalName") p.targetPort ??= p.port;
        if (ports.length > 1 && !p.name) causes.push(required(`spec.ports[${i}].name`));
        if ((spec.type === "NodePort" || spec.type === "LoadBalancer") && !p.nodePort) p.nodePort = ctx.allocateNodePort();
      });
      causes.push(...duplicatePortNames(ports));
      obj.status = { loadBalancer: {} };
      break;
    }
    case "Pod": {
      const spec = (obj.spec ??= {});
      causes.push(...podSpecCauses(spec, "spec"));
      defaultPodSpec(spec);
      obj.status = { phase: "Pending", qosClass: "BestEffort" };
      break;
    }
    case "EndpointSlice":
      if (!obj.addressType) causes.push(required("addressType"));
      else if (!["IPv4", "IPv6", "FQDN"].includes(obj.addressType)) causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: "${obj.addressType}": supported values: "FQDN", "IPv4", "IPv6"`, field: "addressType" });
      obj.endpoints ??= null;
      (obj.endpoints ?? []).forEach((e: Obj, i: number) => {
        if (!Array.isArray(e.addresses) || e.addresses.length === 0) causes.push(required(`endpoints[${i}].addresses`));
        e.conditions ??= {};
      });
      for (const p of obj.ports ?? []) p.protocol ??= "TCP";
      break;
    case "Deployment": {
      const spec = (obj.spec ??= {});
      if (!spec.selector) causes.push(required("spec.selector"));
      else if (!matchesSelector(spec.template?.metadata?.labels, spec.selector)) {
        causes.push(badValue("spec.template.metadata.labels", spec.template?.metadata?.labels ?? {}, "`selector` does not match template `labels`"));
      }
      causes.push(...podSpecCauses(spec.template?.spec, "spec.template.spec"));
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } };
      if (spec.template?.spec) defaultPodSpec(spec.template.spec);
      obj.status = {};
      break;
    }
    case "Job": {
      const spec = (obj.spec ??= {});
      causes.push(...podSpecCauses(spec.template?.spec, "spec.template.spec"));
      const restart = spec.template?.spec?.restartPolicy;
      if (restart !== "Never" && restart !== "OnFailure") {
        causes.push({ reason: "FieldValueNotSupported", message: `Unsupported value: "${restart ?? "Always"}": supported values: "OnFailure", "Never"`, field: "spec.template.spec.restartPolicy" });
      }
      spec.parallelism ??= 1;
      spec.completions ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= "NonIndexed";
      spec.suspend ??= false;
      const uid = obj.metadata.uid;
      spec.selector ??= { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
      if (spec.template) {
        spec.template.metadata ??= {};
        spec.template.metadata.labels = { ...spec.template.metadata.labels, "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": obj.metadata.name, "controller-uid": uid, "job-name": obj.metadata.name };
        if (spec.template.spec) defaultPodSpec(spec.template.spec);
      }
      obj.status = {};
      break;
    }
  }
  if (causes.length) throw invalid(t, obj.metadata.name, causes);
  if (t.kind === "Pod" && !ctx.serviceAccountExists(obj.metadata.namespace, obj.spec.serviceAccountName)) {
    throw forbiddenServiceAccount(obj);
  }
}

function forbiddenServiceAccount(obj: Obj): Error {
  const { namespace, name } = obj.metadata;
  const sa = obj.spec.serviceAccountName;
  const message = `pods "${name}" is forbidden: error looking up service account ${namespace}/${sa}: serviceaccount "${sa}" not found`;
  return failure(403, "Forbidden", message, { name, kind: "pods" });
}

const POD_MUTABLE = new Set(["activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"]);

/** carries allocated values over and rejects changes to immutable fields on update */
export function onUpdate(t: ResourceType, old: KubeObject, next: KubeObject): void {
  const before = old as Obj;
  const after = next as Obj;
  const causes: StatusCause[] = [];
  switch (t.kind) {
    case "Secret":
      causes.push(...secretProblems(after));
      if (after.type !== before.type) causes.push(badValue("type", after.type, "field is immutable"));
      if (before.immutable === true && JSON.stringify(after.data) !== JSON.stringify(before.data)) causes.push(badValue("data", "<secret contents redacted>", "field is immutable when `immutable` is set"));
      break;
    case "Service": {
      const spec = (after.spec ??= {});
      spec.type ??= "ClusterIP";
      if (spec.type !== "ExternalName") {
        // an update without a clusterIP keeps the allocated one (the API server patches it in)
        if (!spec.clusterIP) spec.clusterIP = before.spec?.clusterIP;
        if (before.spec?.clusterIP && spec.clusterIP !== before.spec.clusterIP) {
          causes.push(badValue("spec.clusterIP", spec.clusterIP, "field is immutable"));
        }
        spec.clusterIPs = [spec.clusterIP];
        spec.ipFamilies ??= before.spec?.ipFamilies ?? ["IPv4"];
        spec.ipFamilyPolicy ??= before.spec?.ipFamilyPolicy ?? "SingleStack";
        spec.internalTrafficPolicy ??= "Cluster";
      }
      spec.sessionAffinity ??= "None";
      for (const p of spec.ports ?? []) {
        p.protocol ??= "TCP";
        if (spec.type !== "ExternalName") p.targetPort ??= p.port;
        const was = (before.spec?.ports ?? []).find((q: Obj) => q.port === p.port && q.protocol === p.protocol);
        if (was?.nodePort && !p.nodePort && (spec.type === "NodePort" || spec.type === "LoadBalancer")) p.nodePort = was.nodePort;
      }
      causes.push(...duplicatePortNames(spec.ports ?? []));
      break;
    }
    case "Pod": {
      defaultPodSpec((after.spec ??= {}));
      const strip = (spec: Obj) => {
        const copy = structuredClone(spec ?? {});
        for (const k of POD_MUTABLE) delete copy[k];
        for (const c of [...(copy.containers ?? []), ...(copy.initContainers ?? [])]) delete c.image;
        return JSON.stringify(copy);
      };
      if (strip(before.spec) !== strip(after.spec)) {
        causes.push({ reason: "FieldValueForbidden", message: "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)", field: "spec" });
      }
      break;
    }
    case "EndpointSlice":
      if (after.addressType !== before.addressType) causes.push(badValue("addressType", after.addressType, "field is immutable"));
      after.endpoints ??= null;
      for (const p of after.ports ?? []) p.protocol ??= "TCP";
      break;
    case "Namespace":
      after.spec = { finalizers: ["kubernetes"], ...after.spec };
      after.metadata.labels = { ...after.metadata.labels, "kubernetes.io/metadata.name": after.metadata.name };
      break;
    case "Deployment":
      if (after.spec?.template?.spec) defaultPodSpec(after.spec.template.spec);
      break;
  }
  if (causes.length) throw invalid(t, after.metadata.name, causes);
}

/**
 * A Secret as the API server stores it: stringData folded into data (base64, stringData wins) and
 * dropped, type Opaque by default, data keys checked, kubernetes.io/tls needing tls.crt and tls.key.
 */
function secretProblems(obj: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  obj.type ||= "Opaque";
  if (obj.stringData) {
    obj.data = { ...obj.data };
    for (const [key, value] of Object.entries(obj.stringData as Record<string, string>)) {
      obj.data[key] = btoa(Array.from(new TextEncoder().encode(String(value)), (b) => String.fromCharCode(b)).join(""));
    }
    delete obj.stringData;
  }
  for (const [key, value] of Object.entries((obj.data ?? {}) as Record<string, unknown>)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) causes.push(badValue(`data[${key}]`, key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
    if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) causes.push(badValue(`data[${key}]`, "<secret contents redacted>", "illegal base64 data"));
  }
  if (obj.type === "kubernetes.io/tls") {
    for (const key of ["tls.crt", "tls.key"]) if (obj.data?.[key] === undefined) causes.push(required(`data[${key}]`));
  }
  return causes;
}
