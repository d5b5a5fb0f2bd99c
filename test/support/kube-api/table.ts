// Server-side printing: `kubectl get` asks for a meta.k8s.io/v1 Table (Accept: ...;as=Table) and
// prints its columns as given. The columns follow the real server's for the kinds kubectl users
// look at most (and the Istio CRDs' additionalPrinterColumns); other kinds get Name and Age.
import type { ResourceType } from "./resources.ts";
import type { KubeObject } from "./store.ts";
import type { Obj } from "./objects.ts";

type Column = [name: string, type: string, cell: (o: Obj) => unknown, priority?: number];

/** k8s.io/apimachinery's duration.HumanDuration */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  const y = Math.floor(h / 24 / 365);
  const d = Math.floor(h / 24) % 365;
  return h < 24 * 365 * 8 && d !== 0 ? `${y}y${d}d` : `${y}y`;
}

const age = (o: Obj) => (o.metadata.creationTimestamp ? humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp)) : "<unknown>");
const none = (v: unknown) => (v === undefined || v === null || v === "" ? "<none>" : v);
const join = (list: unknown[] | undefined) => (list?.length ? list.join(",") : "<none>");

const servicePorts = (o: Obj) =>
  join((o.spec?.ports ?? []).map((p: Obj) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`));
const selector = (sel: Obj | undefined) => join(Object.entries(sel ?? {}).map(([k, v]) => `${k}=${v}`));

const COLUMNS: Record<string, Column[]> = {
  Namespace: [["Status", "string", (o) => o.status?.phase ?? ""]],
  Service: [
    ["Type", "string", (o) => o.spec?.type ?? ""],
    ["Cluster-IP", "string", (o) => o.spec?.clusterIP ?? ""],
    ["External-IP", "string", (o) => (o.spec?.type === "ExternalName" ? o.spec.externalName : join(o.spec?.externalIPs))],
    ["Port(s)", "string", servicePorts],
    ["Selector", "string", (o) => selector(o.spec?.selector), 1],
  ],
  Pod: [
    ["Ready", "string", (o) => `${(o.status?.containerStatuses ?? []).filter((c: Obj) => c.ready).length}/${(o.spec?.containers ?? []).length}`],
    ["Status", "string", (o) => (o.metadata.deletionTimestamp ? "Terminating" : o.status?.phase ?? "")],
    ["Restarts", "integer", (o) => (o.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0)],
    ["IP", "string", (o) => none(o.status?.podIP), 1],
    ["Node", "string", (o) => none(o.spec?.nodeName), 1],
  ],
  ServiceAccount: [["Secrets", "string", (o) => (o.secrets ?? []).length]],
  EndpointSlice: [
    ["AddressType", "string", (o) => o.addressType ?? ""],
    ["Ports", "string", (o) => join((o.ports ?? []).map((p: Obj) => p.port))],
    ["Endpoints", "string", (o) => join((o.endpoints ?? []).flatMap((e: Obj) => e.addresses ?? []))],
  ],
  Deployment: [
    ["Ready", "string", (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`],
    ["Up-to-date", "string", (o) => o.status?.updatedReplicas ?? 0],
    ["Available", "string", (o) => o.status?.availableReplicas ?? 0],
  ],
  Job: [["Completions", "string", (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`]],
  VirtualService: [["Gateways", "string", (o) => JSON.stringify(o.spec?.gateways ?? [])], ["Hosts", "string", (o) => JSON.stringify(o.spec?.hosts ?? [])]],
  DestinationRule: [["Host", "string", (o) => o.spec?.host ?? ""]],
  ServiceEntry: [
    ["Hosts", "string", (o) => JSON.stringify(o.spec?.hosts ?? [])],
    ["Location", "string", (o) => o.spec?.location ?? ""],
    ["Resolution", "string", (o) => o.spec?.resolution ?? ""],
  ],
};

function columnsOf(t: ResourceType): Column[] {
  const [first, ...rest] = COLUMNS[t.kind] ?? [];
  // the real server puts Age last for built-ins; the Istio CRDs list it after their own columns
  const own = first ? [first, ...rest] : [];
  const main = own.filter((c) => (c[3] ?? 0) === 0);
  const wide = own.filter((c) => (c[3] ?? 0) > 0);
  return [["Name", "string", (o) => o.metadata.name], ...main, ["Age", "date", age], ...wide];
}

export type IncludeObject = "None" | "Metadata" | "Object";

export function toTable(t: ResourceType, items: KubeObject[], listMeta: Obj, include: IncludeObject): Obj {
  const columns = columnsOf(t);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: columns.map(([name, type, , priority]) => ({
      name, type, format: name === "Name" ? "name" : "", description: name === "Name" ? "Name must be unique within a namespace." : "", priority: priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: columns.map(([, , cell]) => cell(o)),
      object: include === "None" ? undefined
        : include === "Object" ? o
        : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}

/** the Accept header asks for a Table (kubectl get sends as=Table;g=meta.k8s.io first) */
export function wantsTable(accept: string | null): boolean {
  const first = (accept ?? "").split(",")[0];
  return /;\s*as=Table/.test(first) && /;\s*g=meta\.k8s\.io/.test(first);
}
