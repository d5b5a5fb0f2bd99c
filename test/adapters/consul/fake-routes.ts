// The fake agent's catalog, health and agent endpoints, answering as Consul's HTTP API documents:
// field names, default check IDs and statuses, the ?passing filter, ACL filtering of reads.
import type { CheckRecord, CheckStatus, ConsulStore, ServiceRecord } from "./fake-store.ts";
import { parseDuration } from "./fake-checks.ts";
import type { Reply } from "./fake-kv.ts";

export interface RouteContext {
  store: ConsulStore;
  method: string;
  /** path segments after /v1/ */
  parts: string[];
  params: URLSearchParams;
  body: () => Record<string, unknown>;
  /** the request carried the agent's token (or the agent has none) */
  authorized: boolean;
}

const denied = (permission: string, on: string): Reply => ({ status: 403, body: `Permission denied: anonymous token lacks permission '${permission}' on "${on}"` });

/** Consul decodes JSON field names case-insensitively (Go's encoding/json) */
function field<T>(obj: Record<string, unknown> | undefined, name: string): T | undefined {
  if (!obj) return undefined;
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (obj[key] as T);
}

const withoutDefaultNs = <T extends { Namespace: string }>(r: T) => {
  const { Namespace, ...rest } = r;
  return Namespace === "default" ? rest : r; // Consul CE omits Namespace
};
const serviceOut = (s: ServiceRecord) => { const { Node: _n, ...rest } = s; return withoutDefaultNs(rest); };

function instancesOf(ctx: RouteContext, name: string): ServiceRecord[] {
  const ns = ctx.params.get("ns") ?? "default";
  const tag = ctx.params.get("tag");
  return [...ctx.store.services.values()]
    .filter((s) => s.Service === name && s.Namespace === ns && (tag === null || s.Tags.includes(tag)))
    .sort((a, b) => (a.Node + a.ID < b.Node + b.ID ? -1 : 1));
}

function checksOf(store: ConsulStore, s: ServiceRecord): CheckRecord[] {
  return [...store.checks.values()].filter((c) => c.Node === s.Node && (c.ServiceID === "" || c.ServiceID === s.ID));
}

function read(ctx: RouteContext): Reply | { read: () => Reply } | undefined {
  const { store, parts, params, authorized } = ctx;
  const ns = params.get("ns") ?? "default";
  const [area, what, name] = [parts[0], parts[1], parts.slice(2).join("/")];
  if (area === "catalog" && what === "services") {
    return { read: () => {
      const out: Record<string, string[]> = {};
      if (authorized) for (const s of store.services.values()) if (s.Namespace === ns) out[s.Service] = [...new Set([...(out[s.Service] ?? []), ...s.Tags])];
      return { status: 200, body: out, index: store.servicesIndex(), filtered: !authorized };
    } };
  }
  if (area === "catalog" && what === "service" && name) {
    return { read: () => ({ status: 200, index: store.serviceIndex(ns, name), filtered: !authorized, body: (authorized ? instancesOf(ctx, name) : []).map((s) => {
      const node = store.nodes.get(s.Node)!;
      return { ID: node.ID, Node: node.Node, Address: node.Address, Datacenter: node.Datacenter, TaggedAddresses: node.TaggedAddresses, NodeMeta: node.Meta,
        ServiceID: s.ID, ServiceName: s.Service, ServiceTags: s.Tags, ServiceAddress: s.Address, ServiceMeta: s.Meta, ServicePort: s.Port,
        ServiceWeights: s.Weights, ServiceEnableTagOverride: s.EnableTagOverride, ...(s.Namespace === "default" ? {} : { Namespace: s.Namespace }),
        CreateIndex: s.CreateIndex, ModifyIndex: s.ModifyIndex };
    }) }) };
  }
  if (area === "health" && what === "service" && name) {
    const passing = params.has("passing") && !["false", "0"].includes(params.get("passing")!);
    return { read: () => {
      const entries = (authorized ? instancesOf(ctx, name) : [])
        .map((s) => ({ Node: store.nodes.get(s.Node)!, Service: serviceOut(s), Checks: checksOf(store, s).map(withoutDefaultNs) }))
        .filter((e) => !passing || e.Checks.every((c) => c.Status === "passing"));
      return { status: 200, body: entries, index: store.serviceIndex(ns, name), filtered: !authorized };
    } };
  }
  const local = [...store.services.values()].filter((s) => s.Node === store.nodeName && s.Namespace === ns);
  if (area === "agent" && what === "services") return { status: 200, body: Object.fromEntries((authorized ? local : []).map((s) => [s.ID, { ...serviceOut(s), Datacenter: store.datacenter }])) };
  if (area === "agent" && what === "checks") return { status: 200, body: Object.fromEntries((authorized ? [...store.checks.values()] : []).filter((c) => c.Node === store.nodeName).map((c) => [c.CheckID, withoutDefaultNs(c)])) };
  if (area === "agent" && what === "self") return authorized ? { status: 200, body: { Config: { Datacenter: store.datacenter, NodeName: store.nodeName, Server: true } } } : denied("agent:read", store.nodeName);
  if (area === "status" && what === "leader") return { status: 200, body: JSON.stringify("127.0.0.1:8300") }; // a JSON string
  return undefined;
}

/** the checks of one registration: Check and Checks, default IDs service:<id> and service:<id>:<n> */
function registerChecks(ctx: RouteContext, svc: ServiceRecord, body: Record<string, unknown>): Reply | undefined {
  const single = field<Record<string, unknown>>(body, "Check");
  const list = [...(single ? [single] : []), ...(field<Record<string, unknown>[]>(body, "Checks") ?? [])];
  const defs = [];
  for (const [i, c] of list.entries()) {
    const ttl = field<string>(c, "TTL");
    const http = field<string>(c, "HTTP");
    if (!ttl && !http) return { status: 400, body: "the fake consul agent supports TTL and HTTP checks only" };
    const interval = parseDuration(field<string>(c, "Interval") ?? "");
    if (http && !interval) return { status: 400, body: "Interval must be > 0 for Script, HTTP, H2PING, TCP or UDP checks" };
    const id = field<string>(c, "CheckID") ?? field<string>(c, "ID") ?? (list.length === 1 ? `service:${svc.ID}` : `service:${svc.ID}:${i + 1}`);
    defs.push({
      record: { Node: svc.Node, CheckID: id, Name: field<string>(c, "Name") ?? `Service '${svc.Service}' check`, Status: (field<CheckStatus>(c, "Status") ?? "critical"),
        Notes: field<string>(c, "Notes") ?? "", Output: "", ServiceID: svc.ID, ServiceName: svc.Service, ServiceTags: svc.Tags, Type: ttl ? "ttl" : "http", Namespace: svc.Namespace },
      definition: ttl ? { ttlMs: parseDuration(ttl) } : { http, intervalMs: interval, timeoutMs: parseDuration(field<string>(c, "Timeout") ?? "") ?? 10_000 },
    });
  }
  if (ctx.params.has("replace-existing-checks")) {
    for (const [key, c] of ctx.store.checks) if (c.Node === svc.Node && c.ServiceID === svc.ID) ctx.store.removeCheck(key);
  }
  for (const d of defs) ctx.store.putCheck(d.record, d.definition);
  return undefined;
}

function validMeta(meta: Record<string, string>): string | undefined {
  const entries = Object.entries(meta);
  if (entries.length > 64) return "Node metadata cannot contain more than 64 key/value pairs";
  for (const [k, v] of entries) {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(k)) return `Key contains invalid characters or is too long: ${k}`;
    if (k.startsWith("consul-")) return `Key prefix 'consul-' is reserved for internal use`;
    if (String(v).length > 512) return `Value is too long (limit: 512 characters)`;
  }
  return undefined;
}

function write(ctx: RouteContext): Reply | undefined {
  const { store, parts, params, authorized } = ctx;
  const [area, what, verb] = parts;
  const target = decodeURIComponent(parts.slice(3).join("/"));
  const ns = params.get("ns") ?? "default";
  if (area === "agent" && what === "service" && verb === "register") {
    const b = ctx.body();
    const name = field<string>(b, "Name");
    if (!name) return { status: 400, body: "Missing service name" };
    if (!authorized) return denied("service:write", name);
    const meta = field<Record<string, string>>(b, "Meta") ?? {};
    const bad = validMeta(meta);
    if (bad) return { status: 400, body: `Invalid Service Meta: ${bad}` };
    const svc = store.putService({
      ID: field<string>(b, "ID") || name, Service: name, Tags: field<string[]>(b, "Tags") ?? [], Address: field<string>(b, "Address") ?? "", Meta: meta,
      Port: field<number>(b, "Port") ?? 0, Weights: field<{ Passing: number; Warning: number }>(b, "Weights") ?? { Passing: 1, Warning: 1 },
      EnableTagOverride: field<boolean>(b, "EnableTagOverride") ?? false, Namespace: field<string>(b, "Namespace") ?? ns, Node: store.nodeName,
    });
    return registerChecks(ctx, svc, b) ?? { status: 200, body: "" };
  }
  if (area === "agent" && what === "service" && verb === "deregister") {
    const svc = [...store.services.values()].find((s) => s.Node === store.nodeName && s.ID === target);
    if (!authorized) return denied("service:write", svc?.Service ?? target);
    if (!svc) return { status: 200, body: "" }; // "If the service does not exist, no action is taken."
    store.removeService(store.nodeName, target);
    return { status: 200, body: "" };
  }
  if (area === "agent" && what === "check" && ["pass", "warn", "fail", "update"].includes(verb)) {
    const key = `${store.nodeName}/${target}`;
    const check = store.checks.get(key);
    if (!check) return { status: 404, body: `Unknown check ID "${target}". Ensure that the check ID is passed, not the check name.` };
    if (!authorized) return denied("service:write", check.ServiceName || store.nodeName);
    const b = verb === "update" ? ctx.body() : {};
    const status = verb === "update" ? field<CheckStatus>(b, "Status") : ({ pass: "passing", warn: "warning", fail: "critical" } as const)[verb as "pass"];
    if (!status || !["passing", "warning", "critical"].includes(status)) return { status: 400, body: `Invalid check status: "${status}"` };
    const output = verb === "update" ? field<string>(b, "Output") ?? "" : params.get("note") ?? "";
    if (!store.ttlUpdate(key, status, output)) return { status: 500, body: `CheckID "${target}" does not have associated TTL` };
    return { status: 200, body: "" };
  }
  if (area === "catalog" && (what === "register" || what === "deregister")) return catalogWrite(ctx, what);
  return undefined;
}

/** /v1/catalog/register and /deregister: nodes and services outside any agent (external services) */
function catalogWrite(ctx: RouteContext, what: string): Reply {
  const { store } = ctx;
  const b = ctx.body();
  const node = field<string>(b, "Node");
  if (!node) return { status: 400, body: "Must provide node" };
  if (!ctx.authorized) return denied("node:write", node);
  if (what === "deregister") {
    const serviceId = field<string>(b, "ServiceID");
    const checkId = field<string>(b, "CheckID");
    if (serviceId) store.removeService(node, serviceId);
    else if (checkId) store.removeCheck(`${node}/${checkId}`);
    else store.removeNode(node);
    return { status: 200, body: true };
  }
  const address = field<string>(b, "Address");
  if (!address) return { status: 400, body: "Must provide address if SkipNodeUpdate is not set" };
  store.upsertNode(node, address, field<Record<string, string>>(b, "NodeMeta") ?? {});
  const s = field<Record<string, unknown>>(b, "Service");
  const ns = ctx.params.get("ns") ?? "default";
  const svc = s && store.putService({
    ID: field<string>(s, "ID") || field<string>(s, "Service")!, Service: field<string>(s, "Service")!, Tags: field<string[]>(s, "Tags") ?? [],
    Address: field<string>(s, "Address") ?? "", Meta: field<Record<string, string>>(s, "Meta") ?? {}, Port: field<number>(s, "Port") ?? 0,
    Weights: field<{ Passing: number; Warning: number }>(s, "Weights") ?? { Passing: 1, Warning: 1 }, EnableTagOverride: false, Namespace: field<string>(s, "Namespace") ?? ns, Node: node,
  });
  const single = field<Record<string, unknown>>(b, "Check");
  for (const c of [...(single ? [single] : []), ...(field<Record<string, unknown>[]>(b, "Checks") ?? [])]) {
    const serviceId = field<string>(c, "ServiceID") ?? "";
    store.putCheck({ Node: node, CheckID: field<string>(c, "CheckID")!, Name: field<string>(c, "Name") ?? "", Status: field<CheckStatus>(c, "Status") ?? "critical",
      Notes: field<string>(c, "Notes") ?? "", Output: field<string>(c, "Output") ?? "", ServiceID: serviceId, ServiceName: svc && svc.ID === serviceId ? svc.Service : "",
      ServiceTags: [], Type: "", Namespace: ns });
  }
  return { status: 200, body: true };
}

export function route(ctx: RouteContext): Reply | { read: () => Reply } | undefined {
  return ctx.method === "GET" ? read(ctx) : ctx.method === "PUT" ? write(ctx) : undefined;
}
