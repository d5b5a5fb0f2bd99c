// `dietmesh inject` on one manifest: every workload's pod gets the sidecar, Services that select an
// injected pod are retargeted to the sidecar, and every other document passes through as it came.
import { type InjectOptions } from "./defaults.ts";
import { parseManifest } from "./documents.ts";
import { formatInjectError, InjectError, type FieldPath, type InjectErrorSite } from "./errors.ts";
import { injectPod } from "./inject-pod.ts";
import { isObject, isWorkload, podTemplate, type Obj } from "./pod-template.ts";
import { retargetService, type InjectedWorkload } from "./services.ts";

export interface InjectReport {
  /** the manifest with the sidecar added; empty when there are errors */
  output: string;
  /** one line per problem, naming file, document, resource and field */
  errors: string[];
  /** workloads left alone, and things worth knowing about injected ones */
  notes: string[];
  injected: number;
}

/** the objects of a document: itself, or the items of a kind: List */
function objectsOf(value: unknown): [Obj, FieldPath][] {
  if (!isObject(value)) return [];
  if (value.kind === "List" && Array.isArray(value.items)) return value.items.flatMap((item, i) => (isObject(item) ? [[item, ["items", i]] as [Obj, FieldPath]] : []));
  return [[value, []]];
}

function metadataOf(obj: Obj): { namespace?: string; name?: string } {
  const m = isObject(obj.metadata) ? obj.metadata : {};
  return { namespace: typeof m.namespace === "string" ? m.namespace : undefined, name: typeof m.name === "string" ? m.name : undefined };
}

export function injectManifest(text: string, file: string, options: InjectOptions): InjectReport {
  const docs = parseManifest(text);
  const changed = docs.map((d) => structuredClone(d.value));
  const report: InjectReport = { output: "", errors: [], notes: [], injected: 0 };
  const workloads: InjectedWorkload[] = [];
  const siteOf = (index: number, obj: Obj, path: FieldPath): InjectErrorSite => ({
    file, document: index, kind: typeof obj.kind === "string" ? obj.kind : undefined, ...metadataOf(obj), line: docs[index].lineOf(path),
  });
  const label = (site: InjectErrorSite) => `${site.kind} ${site.namespace ? `${site.namespace}/` : ""}${site.name ?? "(no name)"} (${file}, document ${site.document + 1})`;

  docs.forEach((doc, index) => {
    if (doc.syntaxError) {
      report.errors.push(formatInjectError(new InjectError("yaml-syntax", [], doc.syntaxError.message), { file, document: index, line: doc.syntaxError.line }));
      return;
    }
    for (const [obj, at] of objectsOf(changed[index])) {
      if (!isWorkload(obj)) continue;
      try {
        const pod = injectPod(podTemplate(obj), options);
        workloads.push({ namespace: metadataOf(obj).namespace, labels: pod.labels, appPort: pod.appPort, appPortName: pod.appPortName });
        if (pod.outcome === "injected") report.injected++;
        const prefix = pod.outcome === "skipped" ? "not injected: " : "";
        for (const note of pod.notes) report.notes.push(`${label(siteOf(index, obj, at))}: ${prefix}${note}`);
      } catch (error) {
        if (!(error instanceof InjectError)) throw error;
        const path = [...at, ...error.path];
        report.errors.push(formatInjectError(new InjectError(error.code, path, error.message), siteOf(index, obj, path)));
      }
    }
  });
  if (report.errors.length) return report;

  for (const value of changed) {
    for (const [obj] of objectsOf(value)) if (obj.kind === "Service" && obj.apiVersion === "v1") retargetService(obj, workloads);
  }
  report.output = docs.flatMap((doc, i) => (doc.value === undefined ? [] : [doc.render(changed[i])])).join("---\n");
  return report;
}
