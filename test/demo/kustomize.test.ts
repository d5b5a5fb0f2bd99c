// demo/kubernetes as a kustomize base (issue 14 item 5), built with the real `kubectl kustomize`:
// the CA, the gateway with its PodDisruptionBudget (whose selector picks the gateway's pods), RBAC
// that only lists and watches, every Deployment Pod Security "restricted" with requests and limits,
// and an overlay that moves the image to another registry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { must, root } from "../support/mesh.ts";
import { restrictedViolations } from "../support/pod-security.ts";

const base = `${root}demo/kubernetes`;
test.before(async () => {
  // Debian's kubernetes-client when kubectl is missing (scripts/ensure-tools.sh)
  await must("bash", [`${root}scripts/ensure-tools.sh`, "kubectl"]);
});

const build = async (dir: string) => parseAllDocuments(await must("kubectl", ["kustomize", dir])).map((d) => d.toJS());

test("the base: CA and gateway Deployments, a PodDisruptionBudget that selects the gateway, list/watch-only RBAC", async () => {
  const docs = await build(base);
  const deployments = docs.filter((d) => d.kind === "Deployment");
  assert.equal(deployments.map((d) => d.metadata.name).sort(), ["dietmesh-ca", "istio-ingressgateway"]);
  for (const d of deployments) {
    assert.equal(restrictedViolations(d.spec.template.spec), [], d.metadata.name);
    for (const c of d.spec.template.spec.containers) assert.ok(c.resources?.requests && c.resources?.limits, `${d.metadata.name}/${c.name}`);
  }
  const pdb = docs.find((d) => d.kind === "PodDisruptionBudget");
  const gateway = deployments.find((d) => d.metadata.name === "istio-ingressgateway");
  assert.is(pdb.metadata.namespace, gateway.metadata.namespace);
  for (const [k, v] of Object.entries(pdb.spec.selector.matchLabels)) assert.is(gateway.spec.template.metadata.labels[k], v, `the PDB's ${k} selects the gateway's pods`);
  const verbs = new Set(docs.filter((d) => d.kind === "ClusterRole").flatMap((r) => r.rules.flatMap((rule: { verbs: string[] }) => rule.verbs)));
  assert.equal([...verbs].sort(), ["list", "watch"]);
});

test("an overlay moves the image to another registry", async () => {
  const dir = await platform.makeTempDir("dietmesh-kustomize-");
  const relative = base.split("/").filter(Boolean);
  const from = dir.split("/").filter(Boolean);
  const up = from.map(() => "..").join("/");
  await platform.writeTextFile(`${dir}/kustomization.yaml`, `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ${up}/${relative.join("/")}\nimages:\n- { name: dietmesh/proxy, newName: registry.example/mesh/proxy, newTag: "9.9" }\n`);
  const images = (await build(dir)).filter((d) => d.kind === "Deployment").flatMap((d) => d.spec.template.spec.containers.map((c: { image: string }) => c.image));
  assert.equal([...new Set(images)], ["registry.example/mesh/proxy:9.9"]);
  await platform.remove(dir);
});

test.run();
