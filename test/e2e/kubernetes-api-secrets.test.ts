// The test API server's Secrets, driven by the real kubectl as a cluster would be: `create secret
// tls` and `generic` (protobuf bodies), data kept as base64 with its type, stringData folded into
// data, a tls Secret without tls.key refused (422), type immutable, and list and watch narrowed by
// fieldSelector metadata.name (how a proxy watches only the Secrets it names).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { must } from "../support/mesh.ts";
import { startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { ensureKubectl, kubectlFor, type Kubectl } from "../support/kube-api-kubectl.ts";

let api: KubeApi;
let kubectl: Kubectl;
let work: string;

test.before(async () => {
  await ensureKubectl();
  work = await platform.makeTempDir("dietmesh-kube-secrets-");
  await must("sh", ["-c", `cd ${work} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t -keyout t.key -out t.crt 2>/dev/null`]);
  api = startKubeApi();
  kubectl = await kubectlFor(api);
});

test.after(async () => {
  await api?.stop();
  if (kubectl) await platform.remove(kubectl.dir);
  if (work) await platform.remove(work);
});

const decoded = (value: string) => atob(value);

test("kubectl create secret tls and generic: data as base64, with its type", async () => {
  assert.match(await kubectl.ok("create", "secret", "tls", "gw", "--cert", `${work}/t.crt`, "--key", `${work}/t.key`), /secret\/gw created/);
  assert.match(await kubectl.ok("create", "secret", "generic", "gw-cacert", `--from-file=ca.crt=${work}/t.crt`), /secret\/gw-cacert created/);
  const gw = JSON.parse(await kubectl.ok("get", "secret", "gw", "-o", "json"));
  assert.is(gw.type, "kubernetes.io/tls");
  assert.is(decoded(gw.data["tls.crt"]), await platform.readTextFile(`${work}/t.crt`));
  assert.is(decoded(gw.data["tls.key"]), await platform.readTextFile(`${work}/t.key`));
  const ca = JSON.parse(await kubectl.ok("get", "secret", "gw-cacert", "-o", "json"));
  assert.is(ca.type, "Opaque");
  assert.equal(Object.keys(ca.data), ["ca.crt"]);
});

test("stringData is folded into data; a tls Secret without tls.key is refused; type is immutable", async () => {
  const file = await kubectl.file("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: { name: plain }\nstringData: { password: hunter2 }\n");
  await kubectl.ok("create", "-f", file);
  const plain = JSON.parse(await kubectl.ok("get", "secret", "plain", "-o", "json"));
  assert.is(decoded(plain.data.password), "hunter2");
  assert.is(plain.stringData, undefined);
  const broken = await kubectl("create", "-f", await kubectl.file("b.yaml", "apiVersion: v1\nkind: Secret\nmetadata: { name: broken }\ntype: kubernetes.io/tls\ndata: { tls.crt: QQ== }\n"));
  assert.is(broken.code, 1);
  assert.match(broken.out, /data\[tls\.key\]: Required value/);
  const retyped = await kubectl("replace", "-f", await kubectl.file("r.yaml", "apiVersion: v1\nkind: Secret\nmetadata: { name: plain }\ntype: kubernetes.io/tls\ndata: { tls.crt: QQ==, tls.key: QQ== }\n"));
  assert.is(retyped.code, 1);
  assert.match(retyped.out, /field is immutable/);
});

test("list and watch by fieldSelector metadata.name see only that Secret", async () => {
  const listed = JSON.parse(await kubectl.ok("get", "secrets", "--field-selector", "metadata.name=gw", "-o", "json"));
  assert.equal(listed.items.map((s: { metadata: { name: string } }) => s.metadata.name), ["gw"]);
  const watch = kubectl.spawn("get", "secrets", "--field-selector", "metadata.name=gw-cacert", "--watch", "--output-watch-events");
  try {
    await watch.waitFor(/ADDED\s+gw-cacert\b/);
    await kubectl.ok("create", "secret", "generic", "other", "--from-literal=a=b");
    await kubectl.ok("label", "secret", "gw-cacert", "renewed=yes");
    await watch.waitFor(/MODIFIED\s+gw-cacert\b/);
    assert.not.match(watch.lines.join("\n"), /\bother\b/);
  } finally {
    watch.kill("SIGKILL");
  }
});

test.run();
