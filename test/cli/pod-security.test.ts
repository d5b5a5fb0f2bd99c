// Pod Security "restricted" (issue 14 item 5): what `dietmesh inject` adds keeps a compliant pod
// compliant (the sidecar: non-root, no privilege escalation, all capabilities dropped, RuntimeDefault
// seccomp, requests and limits), every Deployment of demo/kubernetes passes, and inject marks the pod
// with Istio's sidecar.istio.io/status, which Kiali reads to count a pod as injected. The checker
// (test/support/pod-security.ts) is shown to fail on a pod that breaks each rule.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { restrictedViolations } from "../support/pod-security.ts";
import { root, run, tempConfig } from "../support/mesh.ts";

const COMPLIANT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }
      containers:
      - name: web
        image: web:1
        ports: [{ containerPort: 8080 }]
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }
`;

const podSpecs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((d) => d?.kind === "Deployment")
    .map((d) => ({ name: d.metadata.name as string, spec: d.spec.template.spec, annotations: d.spec.template.metadata?.annotations ?? {} }));

test("the checker fails a pod for each rule it breaks", () => {
  const [{ spec }] = podSpecs(COMPLIANT);
  assert.equal(restrictedViolations(spec), []);
  const bad = structuredClone(spec);
  bad.hostNetwork = true;
  bad.volumes = [{ name: "h", hostPath: { path: "/" } }];
  bad.securityContext = {};
  bad.containers[0].securityContext = { privileged: true, capabilities: { add: ["NET_ADMIN"] } };
  const found = restrictedViolations(bad).join("\n");
  for (const rule of ["hostNetwork", "hostPath", "privileged", "allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile", "drop must include ALL", "add: NET_ADMIN"]) assert.match(found, rule);
});

test("inject keeps a restricted pod restricted, and marks it with sidecar.istio.io/status", async () => {
  const dir = await tempConfig({ "web.yaml": COMPLIANT });
  const { code, out } = await run("dietmesh", ["inject", "-f", `${dir}/web.yaml`]);
  assert.is(code, 0, out);
  const [pod] = podSpecs(out.slice(out.indexOf("apiVersion")));
  assert.equal(restrictedViolations(pod.spec), []);
  const sidecar = pod.spec.initContainers[0];
  assert.ok(sidecar.resources.limits.cpu && sidecar.resources.limits.memory, "the sidecar has limits");
  assert.equal(JSON.parse(pod.annotations["sidecar.istio.io/status"]).initContainers, ["dietmesh-proxy"]);
  await platform.remove(dir);
});

test("every Deployment of demo/kubernetes (CA, gateway, the injected apps) passes restricted", async () => {
  const files = ["03-ca.yaml", "04-gateway.yaml", ...(await platform.readDir(`${root}demo/kubernetes/injected`)).map((f) => `injected/${f}`)];
  let checked = 0;
  for (const file of files) {
    for (const pod of podSpecs(await platform.readTextFile(`${root}demo/kubernetes/${file}`))) {
      assert.equal(restrictedViolations(pod.spec), [], `${file} ${pod.name}`);
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) assert.ok(c.resources?.requests && c.resources?.limits, `${file} ${pod.name} ${c.name}: requests and limits`);
      checked++;
    }
  }
  assert.ok(checked >= 8, `${checked} Deployments checked`);
});

test.run();
