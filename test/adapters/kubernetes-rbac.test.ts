// The ClusterRole a proxy reading the mesh from Kubernetes needs, as the demo deploys it and as
// docs/kubernetes.md prints it: list and watch on every collection the adapter lists and watches.
// The fake API server (test/support/kube-api) does not enforce RBAC, so a kind added to the adapter
// without its rule would pass every other test and fail on a real cluster (a 403 on one list stops
// the whole sync): the Sidecar kind once did.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { ISTIO_KINDS } from "../../adapters/kubernetes/istio.ts";
import { platform } from "../../runtime/platform/index.ts";
import { root } from "../support/mesh.ts";

/** what the adapter lists and watches, as "group/resource" ("" for the core group) */
const WATCHED = ["/services", "/pods", "discovery.k8s.io/endpointslices", ...ISTIO_KINDS.map((k) => `${k.group}/${k.resource}`)];

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** "group/resource" for every resource the ClusterRoles in text allow both list and watch on */
function listedAndWatched(text: string): Set<string> {
  const out = new Set<string>();
  for (const doc of parseAllDocuments(text)) {
    const r = doc.toJS() as { kind?: string; rules?: Rule[] } | null;
    if (r?.kind !== "ClusterRole") continue;
    for (const rule of r.rules ?? []) {
      if (!rule.verbs.includes("list") || !rule.verbs.includes("watch")) continue;
      for (const group of rule.apiGroups) for (const resource of rule.resources) out.add(`${group}/${resource}`);
    }
  }
  return out;
}

test("demo/kubernetes/02-rbac.yaml: list and watch on every collection the adapter reads", async () => {
  const granted = listedAndWatched(await platform.readTextFile(`${root}demo/kubernetes/02-rbac.yaml`));
  assert.equal(WATCHED.filter((w) => !granted.has(w)), []);
});

test("docs/kubernetes.md's ClusterRole: the same", async () => {
  const text = await platform.readTextFile(`${root}docs/kubernetes.md`);
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /kind: ClusterRole\b/.test(b));
  assert.ok(blocks.length > 0, "a ClusterRole in docs/kubernetes.md");
  const granted = listedAndWatched(blocks.join("\n---\n"));
  assert.equal(WATCHED.filter((w) => !granted.has(w)), []);
});

test.run();
