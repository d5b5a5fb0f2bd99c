// demo/kubernetes cannot rot: injected/ is what `dietmesh inject` makes of plain/ today; istio/
// holds unmodified copies of the demos' Istio YAML; the gateway's, the CA's and the sidecars' args
// are flags those commands take; every service account used exists and may read the mesh with the
// rules docs/kubernetes.md gives; and the test API server, driven by the real kubectl, accepts the
// manifests (the kinds it serves: everything but RBAC).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { cli, root } from "../support/mesh.ts";
import { checkArgs, commandFlags } from "./cli-flags.ts";

const dir = `${root}demo/kubernetes/`;
type Obj = Record<string, any>;

const yamlFiles = async (path: string) => (await platform.readDir(path)).filter((n) => n.endsWith(".yaml"));
const docsOf = async (file: string): Promise<Obj[]> =>
  Array.from(parseAllDocuments(await platform.readTextFile(file), { version: "1.1" }), (d) => d.toJS() as Obj).filter(Boolean);

async function injectOutput(file: string): Promise<string> {
  const work = await platform.makeTempDir("dietmesh-k8s-demo-");
  const runtime = platform.name === "bun" ? [`${root}node_modules/.bin/bun`] : [`${root}node_modules/.bin/deno`, "run", "-A", "--quiet"];
  const child = runCommand("bash", ["-c", 'o=$1; shift; "$@" > "$o/out" 2> "$o/err"', "bash", work, ...runtime, cli, "inject", "-f", file]);
  const code = await child.exited;
  const [out, err] = [await platform.readTextFile(`${work}/out`), await platform.readTextFile(`${work}/err`)];
  await platform.remove(work);
  assert.is(code, 0, err);
  assert.is(err, "", "no notes for the demo's workloads");
  return out;
}

test("injected/ is what dietmesh inject makes of plain/ (run demo/kubernetes/generate.sh after a change)", async () => {
  const names = await yamlFiles(`${dir}plain`);
  assert.equal(await yamlFiles(`${dir}injected`), names);
  for (const name of names) {
    const committed = await platform.readTextFile(`${dir}injected/${name}`);
    const header = `# Generated from plain/${name} by demo/kubernetes/generate.sh (dietmesh inject). Do not edit.\n`;
    assert.ok(committed.startsWith(header), `${name}: ${committed.split("\n")[0]}`);
    assert.is(committed.slice(header.length), await injectOutput(`${dir}plain/${name}`), `injected/${name} is stale: run demo/kubernetes/generate.sh`);
  }
});

test("istio/ holds unmodified copies of the demos' Istio YAML", async () => {
  const sources = [`${root}demo/hello-istio/istio`, `${root}demo/alphabet/istio`, `${root}demo/alphabet/dietmesh`, `${root}demo/security`];
  const originals = new Map<string, string>();
  for (const source of sources) for (const name of await yamlFiles(source)) originals.set(name, `${source}/${name}`);
  let copies = 0;
  for (const sub of await platform.readDir(`${dir}istio`)) {
    if (!(await platform.isDirectory(`${dir}istio/${sub}`))) continue;
    for (const name of await yamlFiles(`${dir}istio/${sub}`)) {
      assert.ok(originals.has(name), `istio/${sub}/${name} is a copy of nothing`);
      assert.is(await platform.readTextFile(`${dir}istio/${sub}/${name}`), await platform.readTextFile(originals.get(name)!), `istio/${sub}/${name}`);
      copies++;
    }
  }
  assert.ok(copies >= 25, `${copies} copies`);
  assert.is(await platform.readTextFile(`${dir}istio/LICENSE`), await platform.readTextFile(`${root}demo/hello-istio/istio/LICENSE`));
});

test("the gateway's, the CA's and every sidecar's args are flags of their commands", async () => {
  const [gateway] = (await docsOf(`${dir}04-gateway.yaml`)).filter((d) => d.kind === "Deployment");
  const gwArgs: string[] = gateway.spec.template.spec.containers[0].args;
  assert.is(gwArgs[0], "gateway");
  const gw = checkArgs(gwArgs.slice(1), await commandFlags("gateway"), "04-gateway.yaml");
  assert.equal(gw.get("registry"), ["kubernetes"]);
  assert.equal(gw.get("labels"), ["app=istio-ingressgateway,istio=ingressgateway"]);
  const [ca] = (await docsOf(`${dir}03-ca.yaml`)).filter((d) => d.kind === "Deployment");
  const caArgs: string[] = ca.spec.template.spec.containers[0].args;
  assert.equal(caArgs.slice(0, 2), ["ca", "serve"]);
  const caFlags = checkArgs(caArgs.slice(2), await commandFlags("ca"), "03-ca.yaml");
  const [listen] = caFlags.get("listen")!;
  const [serverName] = caFlags.get("server-name")!;
  assert.equal(gw.get("ca"), [`https://${serverName}:${listen.split(":").pop()}`], "the gateway reaches the CA by the name its certificate carries");
  const sidecarFlags = await commandFlags("sidecar");
  for (const name of await yamlFiles(`${dir}injected`)) {
    for (const doc of (await docsOf(`${dir}injected/${name}`)).filter((d) => d.kind === "Deployment")) {
      const sidecar = doc.spec.template.spec.initContainers[0];
      assert.is(sidecar.args[0], "sidecar");
      const args = checkArgs(sidecar.args.slice(1), sidecarFlags, `injected/${name} ${doc.metadata.name}`);
      assert.equal(args.get("ca"), gw.get("ca"));
    }
  }
});

test("every service account in use exists and is bound to the rules docs/kubernetes.md gives", async () => {
  const accounts = new Set((await docsOf(`${dir}01-service-accounts.yaml`)).map((d) => `${d.metadata.namespace}/${d.metadata.name}`));
  const rbac = await docsOf(`${dir}02-rbac.yaml`);
  const role = rbac.find((d) => d.kind === "ClusterRole" && d.metadata.name === "dietmesh-reader")!;
  const binding = rbac.find((d) => d.kind === "ClusterRoleBinding" && d.roleRef.name === "dietmesh-reader")!;
  const bound = new Set(binding.subjects.map((s: Obj) => `${s.namespace}/${s.name}`));
  const used: string[] = [];
  for (const name of await yamlFiles(`${dir}injected`)) {
    for (const d of (await docsOf(`${dir}injected/${name}`)).filter((d) => d.kind === "Deployment")) used.push(`default/${d.spec.template.spec.serviceAccountName}`);
  }
  const [gateway] = (await docsOf(`${dir}04-gateway.yaml`)).filter((d) => d.kind === "Deployment");
  used.push(`istio-system/${gateway.spec.template.spec.serviceAccountName}`);
  assert.is(used.length, 8, "seven Deployments and the gateway");
  for (const account of used) {
    assert.ok(accounts.has(account), `${account} is created in 01-service-accounts.yaml`);
    assert.ok(bound.has(account), `${account} is bound to dietmesh-reader`);
  }
  const docs = await platform.readTextFile(`${root}docs/kubernetes.md`).catch(() => "");
  const block = /```yaml\n([\s\S]*?kind: ClusterRole\n[\s\S]*?)```/.exec(docs);
  if (!block) {
    console.log("(docs/kubernetes.md has no ClusterRole example; compared nothing)");
    return;
  }
  const documented = Array.from(parseAllDocuments(block[1]), (d) => d.toJS() as Obj).find((d) => d?.kind === "ClusterRole")!;
  assert.equal(role.rules, documented.rules, "the same rules as docs/kubernetes.md");
});

test("kubectl create accepts the manifests (test API server: namespaces, accounts, CA, gateway, workloads, Istio YAML)", async () => {
  if (!(await platform.readDir(`${root}test/support`)).includes("kube-api.ts")) {
    console.log("SKIP kubectl create: test/support/kube-api.ts (the test Kubernetes API server) is not there yet");
    return;
  }
  const { startKubeApi } = (await import("../support/kube-api.ts")) as typeof import("../support/kube-api.ts");
  const { ensureKubectl, kubectlFor } = (await import("../support/kube-api-kubectl.ts")) as typeof import("../support/kube-api-kubectl.ts");
  await ensureKubectl();
  const api = startKubeApi();
  const kubectl = await kubectlFor(api);
  try {
    await kubectl.ok("create", "-f", `${dir}00-namespaces.yaml`, "-f", `${dir}01-service-accounts.yaml`);
    const out = await kubectl.ok("create", "-f", `${dir}03-ca.yaml`, "-f", `${dir}04-gateway.yaml`, "-f", `${dir}injected/`);
    assert.match(out, /deployment\.apps\/dietmesh-ca created/);
    assert.match(out, /deployment\.apps\/istio-ingressgateway created/);
    for (const d of ["hello-istio-v1", "hello-istio-v2", "spelling-service-v1", "alphabet-service-v1", "a-service-v1", "b-service-v1", "c-service-v1"]) {
      assert.match(out, new RegExp(`deployment\\.apps/${d} created`));
    }
    // as the README applies them: the routing into default; the security files name their namespaces
    const created = await kubectl.ok("create", "-n", "default", "-f", `${dir}istio/hello-istio/`, "-f", `${dir}istio/alphabet/`);
    assert.match(created, /virtualservice\.networking\.istio\.io\/hello-istio created/);
    const security = await kubectl.ok("create", "-f", `${dir}istio/security/`);
    assert.match(security, /peerauthentication\.security\.istio\.io\/default created/);
    assert.match(security, /authorizationpolicy\.security\.istio\.io\/alphabet-service-callers created/);
    const scenarios = await kubectl.ok("apply", "-n", "default", "-f", `${dir}istio/scenarios/hello-istio-75-25.yaml`);
    assert.match(scenarios, /virtualservice\.networking\.istio\.io\/hello-istio configured/);
  } finally {
    await api.stop();
    await platform.remove(kubectl.dir);
  }
});

test.run();
