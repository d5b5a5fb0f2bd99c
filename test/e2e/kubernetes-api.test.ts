// The test Kubernetes API server driven by the real kubectl: discovery, create/get/list with
// selectors, field validation, every served version of the Istio kinds, apply, replace (409 on a
// stale resourceVersion), the three patch formats, delete, watch (kubectl get -w, bookmarks,
// 410 Expired for a compacted resourceVersion) and paginated lists (kubectl get --chunk-size).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { ensureKubectl, kubectlFor, type Kubectl } from "../support/kube-api-kubectl.ts";

const demo = new URL("../../demo/hello-istio/istio/", import.meta.url).pathname;
let api: KubeApi;
let kubectl: Kubectl;

test.before(async () => {
  await ensureKubectl();
  api = startKubeApi({ bookmarkIntervalMs: 300 });
  kubectl = await kubectlFor(api);
});

test.after(async () => {
  await api?.stop();
  if (kubectl) await platform.remove(kubectl.dir);
});

const pod = (name: string, labels: Record<string, string>, extra = "") => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: ${JSON.stringify(labels)} }
spec:
  containers: [{ name: app, image: "app:1" }${extra}]
`;

test("discovery: api-resources and api-versions list the built-in kinds and every Istio version", async () => {
  const resources = (await kubectl.ok("api-resources", "-o", "name")).split("\n");
  for (const name of ["services", "pods", "namespaces", "serviceaccounts", "endpointslices.discovery.k8s.io", "deployments.apps", "jobs.batch",
    "virtualservices.networking.istio.io", "destinationrules.networking.istio.io", "gateways.networking.istio.io", "serviceentries.networking.istio.io",
    "workloadentries.networking.istio.io", "peerauthentications.security.istio.io", "authorizationpolicies.security.istio.io", "requestauthentications.security.istio.io"]) {
    assert.ok(resources.includes(name), `${name} missing from:\n${resources.join("\n")}`);
  }
  const versions = (await kubectl.ok("api-versions")).split("\n");
  for (const v of ["v1", "apps/v1", "batch/v1", "discovery.k8s.io/v1", "networking.istio.io/v1alpha3", "networking.istio.io/v1beta1", "networking.istio.io/v1", "security.istio.io/v1beta1", "security.istio.io/v1"]) {
    assert.ok(versions.includes(v), `${v} missing`);
  }
  assert.match(await kubectl.ok("version"), /Server Version: v1\.32/);
});

test("create, then get and list with label and field selectors", async () => {
  const file = await kubectl.file("pods.yaml", [pod("web-v1", { app: "web", version: "v1" }), pod("web-v2", { app: "web", version: "v2" }), pod("db", { app: "db" })].join("---\n"));
  assert.match(await kubectl.ok("create", "-f", file), /pod\/web-v1 created[\s\S]*pod\/db created/);
  const web = JSON.parse(await kubectl.ok("get", "pod", "web-v1", "-o", "json"));
  assert.is(web.spec.serviceAccountName, "default", "defaulted as the real server does");
  assert.is(web.status.phase, "Pending");
  assert.ok(Number(web.metadata.resourceVersion) > 0);
  assert.is(await kubectl.ok("get", "pods", "-l", "app=web", "-o", "name"), "pod/web-v1\npod/web-v2");
  assert.is(await kubectl.ok("get", "pods", "-l", "app=web,version!=v1", "-o", "name"), "pod/web-v2");
  assert.is(await kubectl.ok("get", "pods", "-l", "version in (v1,v3)", "-o", "name"), "pod/web-v1");
  assert.is(await kubectl.ok("get", "pods", "-l", "!version", "-o", "name"), "pod/db");
  assert.is(await kubectl.ok("get", "pods", "--field-selector", "metadata.name=db", "-o", "name"), "pod/db");
  assert.is(await kubectl.ok("get", "pods", "--field-selector", "status.phase=Pending,metadata.name!=db", "-o", "name"), "pod/web-v1\npod/web-v2");
  const bad = await kubectl("get", "pods", "--field-selector", "spec.foo=x");
  assert.is(bad.code, 1);
  assert.match(bad.out, /field label not supported: spec\.foo/);
  const table = await kubectl.ok("get", "pods");
  assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/, "server-side printing");
  assert.match(await kubectl.ok("get", "pod", "nothing-here", "--ignore-not-found"), /^$/);
  const missing = await kubectl("get", "pod", "nothing-here");
  assert.match(missing.out, /Error from server \(NotFound\): pods "nothing-here" not found/);
  const twice = await kubectl("create", "-f", file);
  assert.match(twice.out, /Error from server \(AlreadyExists\): error when creating ".*pods.yaml": pods "web-v1" already exists/);
});

test("validation: strict field validation, names, required fields, the Pod's service account", async () => {
  const unknown = await kubectl("create", "-f", await kubectl.file("unknown.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: robot }\nfoo: bar\n"));
  assert.match(unknown.out, /strict decoding error: unknown field "foo"/);
  assert.match(await kubectl.ok("create", "--validate=false", "-f", `${kubectl.dir}/unknown.yaml`), /serviceaccount\/robot created/);
  const name = await kubectl("create", "-f", await kubectl.file("name.yaml", "apiVersion: v1\nkind: Service\nmetadata: { name: Web_1 }\nspec: { ports: [{ port: 80 }] }\n"));
  assert.match(name.out, /The Service "Web_1" is invalid: metadata.name: Invalid value: "Web_1": a DNS-1035 label/);
  const ports = await kubectl("create", "-f", await kubectl.file("noports.yaml", "apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { selector: { app: web } }\n"));
  assert.match(ports.out, /The Service "web" is invalid: spec.ports: Required value/);
  const sa = await kubectl("create", "-f", await kubectl.file("sa.yaml", pod("lonely", {}).replace("spec:\n", "spec:\n  serviceAccountName: ghost\n")));
  assert.match(sa.out, /Error from server \(Forbidden\): .*error looking up service account default\/ghost: serviceaccount "ghost" not found/);
  const ns = await kubectl("create", "-n", "nowhere", "-f", `${kubectl.dir}/noports.yaml`);
  assert.match(ns.out, /namespaces "nowhere" not found/);
});

test("Istio kinds: created as v1alpha3, read in every version the CRDs serve", async () => {
  assert.match(await kubectl.ok("create", "-f", `${demo}hello-istio-virtual-service.yaml`, "-f", `${demo}hello-istio-destination.yaml`), /virtualservice.networking.istio.io\/hello-istio created/);
  for (const version of ["v1", "v1beta1", "v1alpha3"]) {
    const vs = JSON.parse(await kubectl.ok("get", `virtualservices.${version}.networking.istio.io`, "hello-istio", "-o", "json"));
    assert.is(vs.apiVersion, `networking.istio.io/${version}`);
    assert.equal(vs.spec.hosts, ["hello-istio.cloud"]);
  }
  assert.is(JSON.parse(await kubectl.ok("get", "vs", "hello-istio", "-o", "json")).apiVersion, "networking.istio.io/v1", "the preferred version");
  assert.match(await kubectl.ok("get", "vs"), /^NAME\s+GATEWAYS\s+HOSTS\s+AGE\nhello-istio\s+\["hello-istio-gateway"\]\s+\["hello-istio.cloud"\]/);
  assert.match(await kubectl.ok("get", "istio-io", "-o", "name"), /virtualservice.networking.istio.io\/hello-istio[\s\S]*destinationrule.networking.istio.io\/hello-istio/);
  const ap = "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: { name: deny-all }\nspec: {}\n";
  assert.match(await kubectl.ok("create", "-f", await kubectl.file("ap.yaml", ap)), /authorizationpolicy.security.istio.io\/deny-all created/);
});

test("apply: created with last-applied-configuration, then three-way patches remove what the file dropped", async () => {
  const svc = (ports: string, label: string) => `apiVersion: v1
kind: Service
metadata: { name: shop, labels: { tier: ${label} } }
spec:
  selector: { app: shop }
  ports: [${ports}]
`;
  const file = `${kubectl.dir}/shop.yaml`;
  await kubectl.file("shop.yaml", svc("{ name: http, port: 80, targetPort: 8080 }, { name: metrics, port: 9090 }", "front"));
  assert.match(await kubectl.ok("apply", "-f", file), /service\/shop created/);
  const created = JSON.parse(await kubectl.ok("get", "svc", "shop", "-o", "json"));
  assert.ok(created.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]);
  assert.match(created.spec.clusterIP, /^10\.96\./);
  await kubectl.file("shop.yaml", svc("{ name: http, port: 80, targetPort: 8081 }", "back"));
  assert.match(await kubectl.ok("apply", "-f", file), /service\/shop configured/);
  const applied = JSON.parse(await kubectl.ok("get", "svc", "shop", "-o", "json"));
  assert.equal(applied.spec.ports, [{ name: "http", port: 80, protocol: "TCP", targetPort: 8081 }]);
  assert.is(applied.metadata.labels.tier, "back");
  assert.is(applied.spec.clusterIP, created.spec.clusterIP, "the allocated cluster IP stays");
  assert.match(await kubectl.ok("apply", "-f", file), /service\/shop unchanged/);

  // a custom resource: kubectl computes a JSON merge patch
  assert.match(await kubectl.ok("apply", "-f", `${demo}hello-istio-v1.yaml`), /virtualservice.networking.istio.io\/hello-istio configured/);
  assert.match(await kubectl.ok("apply", "-f", `${demo}hello-istio-v2.yaml`), /configured/);
  const vs = JSON.parse(await kubectl.ok("get", "vs", "hello-istio", "-o", "json"));
  assert.equal(vs.spec.http, [{ route: [{ destination: { host: "hello-istio", subset: "v2" } }] }]);
  assert.is(vs.metadata.generation, 3, "generation counts spec changes");
});

test("replace: a stale resourceVersion is a 409 Conflict; without one kubectl replaces the latest", async () => {
  const current = await kubectl.ok("get", "vs", "hello-istio", "-o", "yaml");
  const stale = await kubectl.file("stale.yaml", current.replace("subset: v2", "subset: v1"));
  await kubectl.ok("label", "vs", "hello-istio", "touched=yes");
  const conflict = await kubectl("replace", "-f", stale);
  assert.is(conflict.code, 1);
  assert.match(conflict.out, /Error from server \(Conflict\): error when replacing ".*stale.yaml": Operation cannot be fulfilled on virtualservices.networking.istio.io "hello-istio": the object has been modified; please apply your changes to the latest version and try again/);
  assert.match(await kubectl.ok("replace", "-f", `${demo}hello-istio-v1.yaml`), /virtualservice.networking.istio.io\/hello-istio replaced/);
  assert.is(await kubectl.ok("get", "vs", "hello-istio", "-o", "jsonpath={.spec.http[0].route[0].destination.subset}"), "v1");
});

test("patch: strategic merge by merge key, JSON merge, JSON patch, the status subresource; strategic merge on a CRD is 415", async () => {
  await kubectl.ok("create", "-f", await kubectl.file("two.yaml", pod("two", { app: "two" }, ', { name: side, image: "side:1" }')));
  await kubectl.ok("patch", "pod", "two", "-p", '{"spec":{"containers":[{"name":"side","image":"side:2"}]}}');
  const images = await kubectl.ok("get", "pod", "two", "-o", "jsonpath={range .spec.containers[*]}{.name}={.image} {end}");
  assert.is(images.trim(), "app=app:1 side=side:2", "containers merged by name");
  await kubectl.ok("patch", "pod", "two", "--type=merge", "-p", '{"metadata":{"labels":{"extra":"1"}}}');
  await kubectl.ok("patch", "pod", "two", "--type=json", "-p", '[{"op":"remove","path":"/metadata/labels/app"}]');
  assert.equal(JSON.parse(await kubectl.ok("get", "pod", "two", "-o", "jsonpath={.metadata.labels}")), { extra: "1" });
  const failedTest = await kubectl("patch", "pod", "two", "--type=json", "-p", '[{"op":"test","path":"/metadata/name","value":"other"}]');
  assert.is(failedTest.code, 1);
  await kubectl.ok("patch", "pod", "two", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running","podIP":"10.1.2.3"}}');
  assert.is(await kubectl.ok("get", "pod", "two", "-o", "jsonpath={.status.phase} {.status.podIP}"), "Running 10.1.2.3");
  await kubectl.ok("patch", "pod", "two", "--type=merge", "-p", '{"status":{"phase":"Failed"}}');
  assert.is(await kubectl.ok("get", "pod", "two", "-o", "jsonpath={.status.phase}"), "Running", "the main resource ignores status");
  const immutable = await kubectl("patch", "pod", "two", "--type=merge", "-p", '{"spec":{"restartPolicy":"Never"}}');
  assert.match(immutable.out, /pod updates may not change fields other than/);
  const smp = await kubectl("patch", "vs", "hello-istio", "-p", '{"metadata":{"labels":{"a":"b"}}}');
  assert.match(smp.out, /application\/strategic-merge-patch\+json is not supported by networking.istio.io\/v1, Kind=VirtualService/);
});

test("delete: kubectl waits until the object is gone; a namespace takes its contents along", async () => {
  assert.match(await kubectl.ok("delete", "pod", "two"), /pod "two" deleted/);
  assert.match((await kubectl("get", "pod", "two")).out, /NotFound/);
  assert.match(await kubectl.ok("create", "namespace", "team"), /namespace\/team created/, "a protobuf body, decoded");
  assert.is(await kubectl.ok("get", "sa", "-n", "team", "-o", "name"), "serviceaccount/default");
  assert.match(await kubectl.ok("create", "serviceaccount", "robot", "-n", "team"), /serviceaccount\/robot created/);
  assert.match(await kubectl.ok("delete", "namespace", "team"), /namespace "team" deleted/);
  assert.match((await kubectl("get", "sa", "robot", "-n", "team")).out, /NotFound/);
  const typed = await kubectl("create", "deployment", "web", "--image=web:1");
  assert.match(typed.out, /unknown format/, "protobuf bodies of other kinds are refused (415), not misread");
});

test("kubectl get -w prints changes as they happen", async () => {
  const watch = kubectl.spawn("get", "services", "-w", "--output-watch-events");
  try {
    await watch.waitFor(/^EVENT\s+NAME\s+TYPE/, 10_000);
    await kubectl.ok("create", "-f", await kubectl.file("watched.yaml", "apiVersion: v1\nkind: Service\nmetadata: { name: watched }\nspec: { ports: [{ port: 80 }] }\n"));
    await watch.waitFor(/^ADDED\s+watched\s+ClusterIP/, 5000);
    await kubectl.ok("label", "svc", "watched", "seen=yes");
    await watch.waitFor(/^MODIFIED\s+watched/, 5000);
    await kubectl.ok("delete", "svc", "watched");
    await watch.waitFor(/^DELETED\s+watched/, 5000);
  } finally {
    watch.kill();
  }
});

test("watch resourceVersion semantics: replay after N, bookmarks on request, 410 Expired once history is compacted", async () => {
  const rv = Number(JSON.parse(await kubectl.ok("get", "--raw", "/api/v1/namespaces/default/services")).metadata.resourceVersion);
  await kubectl.ok("create", "-f", await kubectl.file("late.yaml", "apiVersion: v1\nkind: Service\nmetadata: { name: late }\nspec: { ports: [{ port: 80 }] }\n"));
  const replay = (await kubectl.ok("get", "--raw", `/api/v1/namespaces/default/services?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`))
    .split("\n").filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(replay.filter((e) => e.type !== "BOOKMARK").map((e) => `${e.type} ${e.object.metadata.name}`), ["ADDED late"]);
  assert.ok(replay.some((e) => e.type === "BOOKMARK" && Number(e.object.metadata.resourceVersion) > rv), "a bookmark within the second");
  api.store.compact();
  const gone = await kubectl.ok("get", "--raw", `/api/v1/namespaces/default/services?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
  const event = JSON.parse(gone.split("\n")[0]);
  assert.is(event.type, "ERROR");
  assert.is(event.object.code, 410);
  assert.is(event.object.reason, "Expired");
  assert.match(event.object.message, /too old resource version/);
});

test("pagination: --chunk-size pages with limit and continue and sees every item; an expired continue token is 410", async () => {
  for (let i = 1; i <= 7; i++) await kubectl.ok("create", "-f", await kubectl.file(`sa${i}.yaml`, `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: page-${i} }\n`));
  const before = api.requests.length;
  const names = (await kubectl.ok("get", "sa", "--chunk-size=3", "-o", "name")).split("\n");
  assert.is(names.filter((n) => n.startsWith("serviceaccount/page-")).length, 7);
  const pages = api.requests.slice(before).filter((r) => r.path === "/api/v1/namespaces/default/serviceaccounts");
  assert.ok(pages.length >= 3, `${pages.length} pages`);
  assert.ok(pages.every((p) => p.query.limit === "3"));
  assert.ok(pages.slice(1).every((p) => p.query.continue), "later pages carry the continue token");
  const first = JSON.parse(await kubectl.ok("get", "--raw", "/api/v1/namespaces/default/serviceaccounts?limit=2"));
  assert.ok(first.metadata.continue);
  assert.ok(first.metadata.remainingItemCount > 0);
  await kubectl.ok("create", "-f", await kubectl.file("sa8.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: page-8 }\n"));
  api.store.compact();
  const expired = await kubectl("get", "--raw", `/api/v1/namespaces/default/serviceaccounts?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`);
  assert.is(expired.code, 1);
  assert.match(expired.out, /Error from server \(Expired\): The provided continue parameter is too old/);
});

test.run();
