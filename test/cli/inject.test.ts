// `dietmesh inject` through the real CLI on fixture manifests: the native sidecar and its args, the
// app's env, probes rewritten through the sidecar (and the --app-probes the sidecar gets), the token
// and CA-root volumes, Services retargeted, every workload kind, idempotence, opt-outs, stdin, flags
// and errors that name the document and field.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseAllDocuments } from "yaml";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand } from "../../runtime/platform/process.ts";
import { cli, root } from "../support/mesh.ts";

const fixtures = new URL("./inject-fixtures/", import.meta.url).pathname;
type Obj = Record<string, any>;

const work = await platform.makeTempDir("dietmesh-inject-");
let runs = 0;

/** runs `dietmesh inject ARGS` with stdout and stderr kept apart (and stdin from a string) */
async function inject(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = `${work}/run-${++runs}`;
  await platform.writeTextFile(`${base}.in`, stdin);
  const runtime = platform.name === "bun" ? [`${root}node_modules/.bin/bun`] : [`${root}node_modules/.bin/deno`, "run", "-A", "--quiet"];
  const child = runCommand("bash", ["-c", 'b=$1; shift; "$@" < "$b.in" > "$b.out" 2> "$b.err"', "bash", base, ...runtime, cli, "inject", ...args]);
  const code = await child.exited;
  return { code, stdout: await platform.readTextFile(`${base}.out`), stderr: await platform.readTextFile(`${base}.err`) };
}

async function ok(args: string[], stdin = ""): Promise<{ text: string; docs: Obj[]; stderr: string }> {
  const r = await inject(args, stdin);
  assert.is(r.code, 0, r.stderr);
  return { text: r.stdout, docs: Array.from(parseAllDocuments(r.stdout, { version: "1.1" }), (d) => d.toJS() as Obj), stderr: r.stderr };
}

const find = (docs: Obj[], kind: string, name: string) => {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  assert.ok(doc, `${kind} ${name} in the output`);
  return doc!;
};
const sidecarOf = (pod: Obj) => pod.spec.initContainers.find((c: Obj) => c.name === "dietmesh-proxy");
const flagValue = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test("Deployment: the sidecar is a native sidecar ahead of the other init containers", async () => {
  const { docs } = await ok(["-f", `${fixtures}web.yaml`]);
  const pod = find(docs, "Deployment", "web").spec.template;
  assert.equal(pod.spec.initContainers.map((c: Obj) => c.name), ["dietmesh-proxy", "migrate"]);
  const sidecar = pod.spec.initContainers[0];
  assert.is(sidecar.restartPolicy, "Always");
  assert.is(sidecar.image, "dietmesh/proxy:0.1.0");
  assert.equal(sidecar.startupProbe.httpGet, { path: "/healthz/ready", port: 15020, scheme: "HTTP" });
  assert.ok(sidecar.startupProbe.failureThreshold * sidecar.startupProbe.periodSeconds >= 60, "the app waits a while for the sidecar before the pod restarts it");
  assert.equal(sidecar.readinessProbe.httpGet, { path: "/healthz/ready", port: 15020, scheme: "HTTP" });
  assert.equal(pod.spec.containers.map((c: Obj) => c.name), ["web", "helper"], "app containers stay where they are");
  assert.equal(sidecar.env[0], { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } });
  assert.equal(sidecar.ports, [
    { name: "dietmesh-in", containerPort: 15006, protocol: "TCP" },
    { name: "http-envoy-prom", containerPort: 15020, protocol: "TCP" },
  ]);
  for (const p of sidecar.ports) assert.ok(p.name.length <= 15, `${p.name}: port names are IANA service names (15 characters at most)`);
  assert.equal(sidecar.resources, { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } });
  assert.equal(sidecar.securityContext, {
    runAsNonRoot: true, runAsUser: 1337, runAsGroup: 1337, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
  });
});

test("the sidecar's args: Kubernetes registry, the pod's identity and labels, the app, listeners, CA", async () => {
  const { docs } = await ok(["-f", `${fixtures}web.yaml`]);
  const args: string[] = sidecarOf(find(docs, "Deployment", "web").spec.template).args;
  const probes = flagValue(args, "--app-probes");
  assert.equal(args, [
    "sidecar", "--registry", "kubernetes", "--namespace", "$(POD_NAMESPACE)", "--service-account", "web-sa", "--labels", "app=web,version=v1",
    "--app", "127.0.0.1:8080", "--inbound", "0.0.0.0:15006", "--outbound", "127.0.0.1:15001", "--admin", "127.0.0.1:15000", "--status", "0.0.0.0:15020",
    "--ca", "https://dietmesh-ca.dietmesh-system.svc:15012", "--ca-root", "/var/run/dietmesh/ca/root-cert.pem", "--token", "/var/run/secrets/tokens/dietmesh-token",
    "--app-probes", probes,
  ]);
  // without serviceAccountName the pod runs as "default"
  const { docs: kinds } = await ok(["-f", `${fixtures}kinds.yaml`]);
  assert.is(flagValue(sidecarOf(find(kinds, "StatefulSet", "db").spec.template).args, "--service-account"), "default");
});

test("every app container gets HTTP_PROXY and NO_PROXY; values the app set are kept", async () => {
  const { docs, text } = await ok(["-f", `${fixtures}web.yaml`]);
  const [web, helper] = find(docs, "Deployment", "web").spec.template.spec.containers;
  assert.equal(web.env, [
    { name: "LOG_LEVEL", value: "on" },
    { name: "NO_PROXY", value: "internal.example" },
    { name: "HTTP_PROXY", value: "http://127.0.0.1:15001" },
    { name: "http_proxy", value: "http://127.0.0.1:15001" },
    { name: "no_proxy", value: "localhost,127.0.0.1" },
  ]);
  assert.equal(helper.env, [
    { name: "HTTP_PROXY", value: "http://127.0.0.1:15001" },
    { name: "http_proxy", value: "http://127.0.0.1:15001" },
    { name: "NO_PROXY", value: "localhost,127.0.0.1" },
    { name: "no_proxy", value: "localhost,127.0.0.1" },
  ]);
  assert.match(text, /value: "on"/, "a quoted YAML 1.1 boolean stays quoted, so Kubernetes still reads a string");
});

test("httpGet probes go through the sidecar; the originals go to --app-probes; tcpSocket, exec and HTTPS stay", async () => {
  const { docs } = await ok(["-f", `${fixtures}web.yaml`]);
  const pod = find(docs, "Deployment", "web").spec.template;
  const [web, helper] = pod.spec.containers;
  assert.equal(web.livenessProbe, { httpGet: { path: "/app-health/web/livez", port: 15020, scheme: "HTTP" }, initialDelaySeconds: 10, periodSeconds: 5 });
  assert.equal(web.readinessProbe, { httpGet: { path: "/app-health/web/readyz", port: 15020, scheme: "HTTP" }, timeoutSeconds: 3 });
  assert.equal(web.startupProbe, { tcpSocket: { port: 8080 } });
  assert.equal(helper.livenessProbe, { exec: { command: ["cat", "/tmp/alive"] } });
  assert.equal(helper.readinessProbe, { httpGet: { path: "/secure", port: 8443, scheme: "HTTPS" } });
  assert.equal(JSON.parse(flagValue(sidecarOf(pod).args, "--app-probes")), {
    "/app-health/web/livez": { httpGet: { path: "/healthz", port: 8080, scheme: "HTTP" }, timeoutSeconds: 1 },
    "/app-health/web/readyz": { httpGet: { path: "/ready", port: 8080, scheme: "HTTP", httpHeaders: [{ name: "X-Probe", value: "kubelet" }] }, timeoutSeconds: 3 },
  });
});

test("the projected token (audience istio-ca) and the CA root are mounted into the sidecar", async () => {
  const { docs } = await ok(["-f", `${fixtures}web.yaml`]);
  const pod = find(docs, "Deployment", "web").spec.template;
  assert.equal(pod.spec.volumes, [
    { name: "dietmesh-token", projected: { sources: [{ serviceAccountToken: { audience: "istio-ca", expirationSeconds: 43200, path: "dietmesh-token" } }] } },
    { name: "dietmesh-ca-root", configMap: { name: "dietmesh-ca-root" } },
  ]);
  assert.equal(sidecarOf(pod).volumeMounts, [
    { name: "dietmesh-token", mountPath: "/var/run/secrets/tokens", readOnly: true },
    { name: "dietmesh-ca-root", mountPath: "/var/run/dietmesh/ca", readOnly: true },
  ]);
  assert.is(sidecarOf(pod).args.includes("/var/run/secrets/tokens/dietmesh-token"), true);
});

test("the status annotation records what was injected; other annotations stay", async () => {
  const { docs } = await ok(["-f", `${fixtures}web.yaml`]);
  const annotations = find(docs, "Deployment", "web").spec.template.metadata.annotations;
  assert.is(annotations.team, "storefront");
  assert.equal(JSON.parse(annotations["sidecar.dietmesh.io/status"]), {
    image: "dietmesh/proxy:0.1.0", initContainers: ["dietmesh-proxy"], volumes: ["dietmesh-token", "dietmesh-ca-root"], appPort: 8080,
    probes: ["/app-health/web/livez", "/app-health/web/readyz"],
  });
});

test("Services selecting the pod target the sidecar's inbound port; other documents pass through byte for byte", async () => {
  const input = await platform.readTextFile(`${fixtures}web.yaml`);
  const { docs, text } = await ok(["-f", `${fixtures}web.yaml`]);
  const web = find(docs, "Service", "web");
  assert.equal(web.spec.ports, [{ name: "http", port: 80, targetPort: 15006 }, { name: "http-metrics", port: 9090 }], "the app port (by name) is retargeted, the metrics port is not");
  assert.equal(find(docs, "Service", "other").spec.ports, [{ name: "http", port: 80, targetPort: 8080 }]);
  const untouched = input.slice(input.indexOf("apiVersion: v1\nkind: Service\nmetadata: { name: other"));
  assert.ok(text.endsWith(untouched), `the last two documents, comments and all, as they came:\n${text.slice(-600)}`);
  assert.match(text, /^# The shop's web tier/, "the leading comment of a changed document is kept");
});

test("a second run changes nothing (idempotent)", async () => {
  const first = await ok(["-f", `${fixtures}web.yaml`]);
  await platform.writeTextFile(`${work}/once.yaml`, first.text);
  const second = await ok(["-f", `${work}/once.yaml`]);
  assert.is(second.text, first.text);
  const kinds = await ok(["-f", `${fixtures}kinds.yaml`]);
  await platform.writeTextFile(`${work}/kinds-once.yaml`, kinds.text);
  assert.is((await ok(["-f", `${work}/kinds-once.yaml`])).text, kinds.text);
});

test("every workload kind gets the same native sidecar; a Job's pod can complete", async () => {
  const { docs } = await ok(["-f", `${fixtures}kinds.yaml`]);
  const pods: [string, Obj][] = [
    ["StatefulSet", find(docs, "StatefulSet", "db").spec.template],
    ["DaemonSet", find(docs, "DaemonSet", "agent").spec.template],
    ["ReplicaSet", find(docs, "ReplicaSet", "cache").spec.template],
    ["Job", find(docs, "Job", "report").spec.template],
    ["CronJob", find(docs, "CronJob", "nightly").spec.jobTemplate.spec.template],
    ["Pod", find(docs, "Pod", "debug")],
    ["List item", docs.find((d) => d.kind === "List")!.items[0].spec.template],
  ];
  const reference = sidecarOf(pods[0][1]);
  const shape = (c: Obj): Obj => ({ ...c, args: c.args.filter((a: string) => !/^(app=|127\.0\.0\.1:\d+$|0\.0\.0\.0:15006$|--app$|--inbound$)/.test(a)) });
  for (const [what, pod] of pods) {
    const sidecar = sidecarOf(pod);
    assert.ok(sidecar, `${what}: a sidecar`);
    assert.is(sidecar.restartPolicy, "Always", `${what}: native`);
    const { ports: _a, ...rest } = shape(sidecar);
    const { ports: _b, ...expected } = shape(reference);
    assert.equal(rest, expected, `${what}: the same sidecar`);
  }
  const job = find(docs, "Job", "report").spec.template;
  assert.is(job.spec.restartPolicy, "Never");
  assert.equal(job.spec.containers.map((c: Obj) => c.name), ["report"], "the sidecar is not a regular container, so it cannot keep the Job running");
  assert.not.ok(sidecarOf(job).args.includes("--app"), "a Job without a port gets an outbound-only sidecar");
  assert.is(flagValue(sidecarOf(find(docs, "Pod", "debug")).args, "--app"), "127.0.0.1:8081", "dietmesh.io/app-port picks the port");
});

test("sidecar.istio.io/inject: \"false\" (annotation or label) and hostNetwork pods are left alone", async () => {
  const input = await platform.readTextFile(`${fixtures}skip.yaml`);
  const { text, stderr } = await ok(["-f", `${fixtures}skip.yaml`]);
  assert.is(text, input, "nothing changed, not even the Service of the skipped pod");
  assert.match(stderr, /Deployment legacy \(.*skip\.yaml, document 1\): not injected: sidecar\.istio\.io\/inject is "false"/);
  assert.match(stderr, /Deployment labelled \(.*document 2\): not injected/);
  assert.match(stderr, /DaemonSet node-exporter \(.*document 3\): not injected: hostNetwork/);
});

test("-f - reads stdin; --image, --ca-address and --app-port are used", async () => {
  const input = await platform.readTextFile(`${fixtures}web.yaml`);
  const fromFile = await ok(["-f", `${fixtures}web.yaml`]);
  const fromStdin = await ok(["-f", "-"], input);
  assert.is(fromStdin.text, fromFile.text);
  const custom = await ok(["-f", "-", "--image", "registry.example/dietmesh:dev", "--ca-address", "https://ca.mesh.example:8443", "--app-port", "9090"], input);
  const pod = find(custom.docs, "Deployment", "web").spec.template;
  const sidecar = sidecarOf(pod);
  assert.is(sidecar.image, "registry.example/dietmesh:dev");
  assert.is(flagValue(sidecar.args, "--ca"), "https://ca.mesh.example:8443");
  assert.is(flagValue(sidecar.args, "--app"), "127.0.0.1:9090");
  assert.equal(find(custom.docs, "Service", "web").spec.ports, [{ name: "http", port: 80, targetPort: "http" }, { name: "http-metrics", port: 9090, targetPort: 15006 }]);
});

test("--help, and bad flags are one-line errors with exit 2", async () => {
  const help = await inject(["--help"]);
  assert.is(help.code, 0);
  for (const flag of ["--filename", "--image", "--ca-address", "--app-port"]) assert.ok(help.stdout.includes(flag), flag);
  for (const [args, message] of [
    [[], /-f FILE is required/],
    [["-f", "x.yaml", "--app-port", "15001"], /--app-port: 15001 is one of the sidecar's ports/],
    [["-f", "x.yaml", "--app-port", "http"], /--app-port: expected a port number/],
    [["-f", "x.yaml", "--ca-address", "dietmesh-ca:15012"], /--ca-address: expected https:\/\/HOST:PORT/],
    [["-f", "x.yaml", "--frob"], /unknown flag --frob/],
  ] as [string[], RegExp][]) {
    const r = await inject(args);
    assert.is(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.is(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  const missing = await inject(["-f", `${work}/nothing-here.yaml`]);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nothing-here\.yaml/);
});

test("anchors and merge keys are followed as Kubernetes follows them", async () => {
  const input = `apiVersion: apps/v1
kind: Deployment
metadata: { name: twins }
spec:
  template:
    metadata: { labels: { app: twins } }
    spec:
      containers:
      - &first
        name: first
        image: twins:1
        ports: [{ containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /ready, port: 8080 } }
      - <<: *first
        name: second
        ports: [{ containerPort: 8081 }]
`;
  const { docs, text } = await ok(["-f", "-"], input);
  const pod = docs[0].spec.template.spec;
  assert.equal(pod.containers.map((c: Obj) => [c.name, c.image, c.env.length, c.readinessProbe.httpGet.path]), [
    ["first", "twins:1", 4, "/app-health/first/readyz"],
    ["second", "twins:1", 4, "/app-health/second/readyz"],
  ]);
  assert.equal(Object.keys(JSON.parse(flagValue(sidecarOf(docs[0].spec.template).args, "--app-probes"))), ["/app-health/first/readyz", "/app-health/second/readyz"]);
  assert.is((await ok(["-f", "-"], text)).text, text, "and a second run changes nothing");
});

const deployment = (containers: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  template:
    metadata:
      labels: { app: web }${extra}
    spec:
      containers:
${containers}`;

test("metrics merging: the pod's prometheus.io annotations become --app-metrics, and point Prometheus at the status port", async () => {
  const text = deployment("      - name: web\n        image: web\n        ports: [{ containerPort: 8080 }]\n",
    `\n      annotations: { prometheus.io/scrape: "true", prometheus.io/port: "9090", prometheus.io/path: /m }`);
  const { docs } = await ok(["-f", "-"], text);
  const pod = docs[0].spec.template;
  assert.is(flagValue(sidecarOf(pod).args, "--app-metrics"), "http://127.0.0.1:9090/m");
  assert.equal([pod.metadata.annotations["prometheus.io/scrape"], pod.metadata.annotations["prometheus.io/port"], pod.metadata.annotations["prometheus.io/path"]], ["true", "15020", "/stats/prometheus"]);
  // without a scrape annotation there is nothing to merge, but the pod is still scraped at the status port
  const plain = (await ok(["-f", "-"], deployment("      - name: web\n        image: web\n        ports: [{ containerPort: 8080 }]\n"))).docs[0].spec.template;
  assert.not.ok(sidecarOf(plain).args.includes("--app-metrics"));
  assert.is(plain.metadata.annotations["prometheus.io/port"], "15020");
});

test("errors name the file, document, resource, line and field, and nothing is printed", async () => {
  const cases: [string, string, RegExp][] = [
    ["unknown-port", "---\n" + deployment("      - name: web\n        image: web\n        ports: [{ name: http, containerPort: 8080 }]\n        livenessProbe:\n          httpGet: { path: /, port: admin }\n"),
      /^Error \[unknown-port\] Deployment shop\/web \(.*bad\.yaml, document 1, line 15\) spec\.template\.spec\.containers\[0\]\.livenessProbe\.httpGet\.port: no port named "admin" in container "web"$/],
    ["port-conflict", deployment("      - name: web\n        image: web\n        ports: [{ containerPort: 8080 }, { containerPort: 15001 }]\n"),
      /^Error \[port-conflict\] Deployment shop\/web \(.*document 1, line 12\) spec\.template\.spec\.containers\[0\]\.ports\[1\]\.containerPort: port 15001 is the sidecar's/],
    ["annotation", deployment("      - name: web\n        image: web\n", "\n      annotations: { dietmesh.io/app-port: http }"),
      /^Error \[invalid-field\] Deployment shop\/web .* spec\.template\.metadata\.annotations\["dietmesh\.io\/app-port"\]: expected a port number \(1-65535\), got "http"$/],
    ["volume", deployment("      - name: web\n        image: web\n").replace("    spec:\n", "    spec:\n      volumes: [{ name: dietmesh-token, emptyDir: {} }]\n"),
      /^Error \[name-conflict\] .* spec\.template\.spec\.volumes\[0\]\.name: the sidecar needs the volume name "dietmesh-token"$/],
    ["no template", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: fine }\n---\napiVersion: batch/v1\nkind: Job\nmetadata: { name: broken }\nspec: { backoffLimit: 1 }\n",
      /^Error \[invalid-field\] Job broken \(.*document 2, line 8\) spec\.template: a Job needs spec\.template with a pod spec$/],
    ["no containers", deployment("        []\n"), /spec\.template\.spec\.containers: a pod needs at least one container$/],
    ["syntax", "apiVersion: v1\nkind: ConfigMap\n---\nkind: Deployment\nmetadata: { name: [unclosed\n", /^Error \[yaml-syntax\] \(.*bad\.yaml, document 2, line \d+\) /],
  ];
  for (const [what, text, message] of cases) {
    await platform.writeTextFile(`${work}/bad.yaml`, text);
    const r = await inject(["-f", `${work}/bad.yaml`]);
    assert.is(r.code, 1, `${what}: ${r.stderr}`);
    assert.is(r.stdout, "", `${what}: no partial output`);
    assert.match(r.stderr.trim(), message, what);
  }
});

test.after(() => platform.remove(work));
test.run();
