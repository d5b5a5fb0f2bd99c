// labelSelector and fieldSelector as the API server parses them: labels with =, ==, !=, in, notin,
// exists and !exists; fields with =, == and != on the fields each kind supports (metadata.name
// and metadata.namespace everywhere). An unsupported field is a 400, as on a real cluster.
import type { ResourceType } from "./resources.ts";
import { badRequest } from "./status.ts";
import type { KubeObject } from "./store.ts";

export type Matcher = (object: KubeObject) => boolean;

const everything: Matcher = () => true;

/** splits on commas that are not inside parentheses ("a in (x,y),b" → ["a in (x,y)", "b"]) */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out.map((t) => t.trim()).filter(Boolean);
}

export function labelMatcher(selector: string | null): Matcher {
  if (!selector?.trim()) return everything;
  const checks = terms(selector).map((term): Matcher => {
    const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
    if (set) {
      const [, key, op, raw] = set;
      const values = raw.split(",").map((v) => v.trim());
      return (o) => {
        const v = o.metadata.labels?.[key];
        return op === "in" ? v !== undefined && values.includes(v) : v === undefined || !values.includes(v);
      };
    }
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      const [, key, op, value] = cmp;
      return op === "!=" ? (o) => o.metadata.labels?.[key] !== value : (o) => o.metadata.labels?.[key] === value;
    }
    const exists = /^(!?)([^=!\s()]+)$/.exec(term);
    if (exists) {
      const [, not, key] = exists;
      return (o) => (o.metadata.labels?.[key] !== undefined) !== (not === "!");
    }
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
  return (o) => checks.every((c) => c(o));
}

/** the field selectors each kind supports besides metadata.name and metadata.namespace */
const FIELDS: Record<string, Record<string, (o: KubeObject) => unknown>> = {
  Pod: {
    "spec.nodeName": (o) => (o.spec as { nodeName?: string })?.nodeName ?? "",
    "spec.serviceAccountName": (o) => (o.spec as { serviceAccountName?: string })?.serviceAccountName ?? "",
    "status.phase": (o) => (o.status as { phase?: string })?.phase ?? "",
    "status.podIP": (o) => (o.status as { podIP?: string })?.podIP ?? "",
  },
  Namespace: { "status.phase": (o) => (o.status as { phase?: string })?.phase ?? "" },
  Service: { "spec.clusterIP": (o) => (o.spec as { clusterIP?: string })?.clusterIP ?? "", "spec.type": (o) => (o.spec as { type?: string })?.type ?? "" },
  EndpointSlice: { addressType: (o) => o.addressType ?? "" },
  Secret: { type: (o) => o.type ?? "" },
};

export function fieldMatcher(t: ResourceType, selector: string | null): Matcher {
  if (!selector?.trim()) return everything;
  const checks = terms(selector).map((term): Matcher => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const [, field, op, value] = m;
    const read =
      field === "metadata.name" ? (o: KubeObject) => o.metadata.name
      : field === "metadata.namespace" ? (o: KubeObject) => o.metadata.namespace ?? ""
      : FIELDS[t.kind]?.[field];
    if (!read) throw badRequest(`field label not supported: ${field}`);
    return op === "!=" ? (o) => String(read(o)) !== value : (o) => String(read(o)) === value;
  });
  return (o) => checks.every((c) => c(o));
}
