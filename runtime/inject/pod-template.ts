// Where each workload kind keeps its pod: a Pod is one; Deployment, StatefulSet, DaemonSet,
// ReplicaSet, ReplicationController and Job hold a template at spec.template; a CronJob one level
// deeper, in its jobTemplate. Anything else is not a workload and passes through untouched.
import { InjectError, type FieldPath } from "./errors.ts";

export type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const TEMPLATE_AT: Record<string, FieldPath> = {
  Pod: [],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

/** the API groups these kinds live in (extensions/v1beta1 for old Deployments) */
const GROUPS = new Set(["", "apps", "extensions", "batch"]);

export interface PodTemplate {
  /** the pod's metadata and spec, to be changed in place */
  metadata: Obj;
  spec: Obj;
  /** field path of the pod template within the document (for messages) */
  at: FieldPath;
}

export function isWorkload(doc: Obj): boolean {
  const kind = doc.kind;
  if (typeof kind !== "string" || !(kind in TEMPLATE_AT)) return false;
  const apiVersion = typeof doc.apiVersion === "string" ? doc.apiVersion : "";
  return GROUPS.has(apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "");
}

/** the pod template of a workload document; metadata is created when missing */
export function podTemplate(doc: Obj): PodTemplate {
  const at = TEMPLATE_AT[doc.kind as string];
  let node: unknown = doc;
  for (let i = 0; i < at.length; i++) {
    if (!isObject(node) || !isObject(node[at[i]])) throw new InjectError("invalid-field", at.slice(0, i + 1), `a ${doc.kind} needs ${at.join(".")} with a pod spec`);
    node = node[at[i]];
  }
  const template = node as Obj;
  if (!isObject(template.spec)) throw new InjectError("invalid-field", [...at, "spec"], "expected the pod spec (an object)");
  if (template.metadata === undefined || template.metadata === null) template.metadata = {};
  if (!isObject(template.metadata)) throw new InjectError("invalid-field", [...at, "metadata"], "expected an object");
  return { metadata: template.metadata, spec: template.spec, at };
}
