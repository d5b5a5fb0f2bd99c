// `dietmesh inject -f … | kubectl create -f -` against the test Kubernetes API server: the injected
// Deployment, Job, Pod and Service are accepted and stored as written; then the sidecar is run with
// the args the API server holds for it (paths and ports swapped for local ones, $(POD_NAMESPACE)
// expanded as the kubelet would), and becomes ready with its identity from `ca serve` and its app's
// probes answered. Skips, saying so, when the test API server (test/support/kube-api.ts) is absent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { cli, curl, root, startProcess, startSidecar, stopAll } from "../support/mesh.ts";

const support = new URL("../support/", import.meta.url).pathname;
const present = (await platform.readDir(support)).includes("kube-api.ts");
if (!present) {
  console.log("SKIP inject-kube-api: test/support/kube-api.ts (the test Kubernetes API server) is not there yet");
  test.skip("kubectl create -f of the inject output", () => {});
  test.run();
} else {
  await suite();
}

async function suite(): Promise<void> {
  const { startKubeApi } = (await import("../support/kube-api.ts")) as typeof import("../support/kube-api.ts");
  const { ensureKubectl, kubectlFor } = (await import("../support/kube-api-kubectl.ts")) as typeof import("../support/kube-api-kubectl.ts");
  await ensureKubectl();
  const api = startKubeApi();
  const kubectl = await kubectlFor(api);
  const work = await platform.makeTempDir("dietmesh-inject-kube-");
  const app = platform.serve({ hostname: "127.0.0.1", port: 0, handler: (req) => new Response(new URL(req.url).pathname === "/healthz" ? "ok\n" : "app\n") });
  const runtime = platform.name === "bun" ? `${root}node_modules/.bin/bun` : `${root}node_modules/.bin/deno run -A --quiet`;

  const manifest = `apiVersion: v1
kind: ServiceAccount
metadata: { name: web-sa }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, version: v1 } }
    spec:
      serviceAccountName: web-sa
      containers:
      - name: web
        image: web:1
        ports: [{ name: http, containerPort: ${app.port} }]
        livenessProbe: { httpGet: { path: /healthz, port: http }, periodSeconds: 5 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: batch/v1
kind: Job
metadata: { name: report }
spec:
  template:
    metadata: { labels: { app: report } }
    spec:
      restartPolicy: Never
      containers: [{ name: report, image: "report:1" }]
---
apiVersion: v1
kind: Pod
metadata: { name: debug, labels: { app: debug } }
spec:
  containers: [{ name: debug, image: "debug:1", ports: [{ containerPort: 8080 }] }]
`;

  test.after(async () => {
    stopAll();
    await app.stop(true);
    await api.stop();
    await platform.remove(work);
    await platform.remove(kubectl.dir);
  });

  test("dietmesh inject -f web.yaml | kubectl create -f -: every object is accepted", async () => {
    await platform.writeTextFile(`${work}/web.yaml`, manifest);
    const pipeline = `set -o pipefail; ${runtime} ${cli} inject -f ${work}/web.yaml | kubectl --kubeconfig ${kubectl.kubeconfig} --cache-dir ${kubectl.dir}/cache create -f -`;
    const child = runCommand("bash", ["-c", pipeline], { env: { HOME: kubectl.dir } });
    const code = await child.exited;
    const out = child.lines.join("\n");
    assert.is(code, 0, out);
    for (const created of ["serviceaccount/web-sa", "deployment.apps/web", "service/web", "job.batch/report", "pod/debug"]) assert.match(out, new RegExp(`${created} created`), out);
  });

  test("the API server holds the native sidecar, its volumes and the retargeted Service", async () => {
    const deployment = JSON.parse(await kubectl.ok("get", "deployment", "web", "-o", "json"));
    const pod = deployment.spec.template.spec;
    assert.is(pod.initContainers[0].name, "dietmesh-proxy");
    assert.is(pod.initContainers[0].restartPolicy, "Always");
    assert.equal(pod.volumes.map((v: { name: string }) => v.name), ["dietmesh-token", "dietmesh-ca-root"]);
    assert.is(pod.containers[0].livenessProbe.httpGet.port, 15020);
    const job = JSON.parse(await kubectl.ok("get", "job", "report", "-o", "json"));
    assert.is(job.spec.template.spec.initContainers[0].restartPolicy, "Always");
    const stored = JSON.parse(await kubectl.ok("get", "pod", "debug", "-o", "json"));
    assert.is(stored.spec.initContainers[0].name, "dietmesh-proxy");
    const service = JSON.parse(await kubectl.ok("get", "service", "web", "-o", "json"));
    assert.equal(service.spec.ports.map((p: { targetPort: unknown }) => p.targetPort), [15006]);
  });

  test("the sidecar runs with the stored args: ready, identity from ca serve, the app's probe answered", async () => {
    const deployment = JSON.parse(await kubectl.ok("get", "deployment", "web", "-o", "json"));
    const stored: string[] = deployment.spec.template.spec.initContainers[0].args;
    // a CA like the cluster's, and the files the pod would have mounted
    const must = async (args: string[]) => {
      const child = runCommand(runtime.split(" ")[0], [...runtime.split(" ").slice(1), cli, ...args]);
      const code = await child.exited;
      assert.is(code, 0, child.lines.join("\n"));
      return child.lines.join("\n");
    };
    await must(["ca", "init", "--dir", `${work}/ca`]);
    const ca = startProcess(cli, ["ca", "serve", "--dir", `${work}/ca`, "--listen", "127.0.0.1:0"]);
    const [, caUrl] = await ca.waitFor(/ca serving \S+ on (https:\/\/\S+)/);
    await platform.writeTextFile(`${work}/token`, (await must(["ca", "token", "--dir", `${work}/ca`, "--namespace", "default", "--service-account", "web-sa"])).trim());
    const local: Record<string, string> = {
      "--inbound": "127.0.0.1:0", "--outbound": "127.0.0.1:0", "--admin": "127.0.0.1:0", "--status": "127.0.0.1:0",
      "--ca": caUrl, "--ca-root": `${work}/ca/root-cert.pem`, "--token": `${work}/token`,
    };
    const args = stored.slice(1).map((a, i, all) => local[all[i - 1]] ?? a.replaceAll("$(POD_NAMESPACE)", "default"));
    assert.equal(args.filter((a) => a.startsWith("--")), ["--registry", "--namespace", "--service-account", "--labels", "--app", "--inbound", "--outbound", "--admin", "--status", "--ca", "--ca-root", "--token", "--app-probes"]);
    // startSidecar adds --config (a folder with nothing in it) before these args; the Istio config comes from the API
    const empty = await platform.makeTempDir("dietmesh-empty-");
    const sidecar = await startSidecar(empty, [...args, "--kubeconfig", kubectl.kubeconfig]);
    const [, status] = await sidecar.child.waitFor(/status on (\S+)/);
    const ready = await curl([`http://${status}/healthz/ready`]);
    assert.is(ready.status, 200, "ready once the Kubernetes registry has synced");
    const dump = JSON.parse((await curl([`http://${sidecar.admin}/config_dump`])).body);
    assert.is(dump.proxy.identity.spiffeId, "spiffe://cluster.local/ns/default/sa/web-sa");
    assert.equal(dump.proxy.labels, { app: "web", version: "v1" });
    const livez = deployment.spec.template.spec.containers[0].livenessProbe.httpGet.path;
    assert.is((await curl([`http://${status}${livez}`])).status, 200, "the kubelet's rewritten probe reaches the app");
    await platform.remove(empty);
  });

  test.run();
}
