// credentialName from Kubernetes Secrets (adapters/kubernetes/secrets.ts) against the test API
// server: the roles a use asks for (pair, CA, the NAME-cacert companion), decoded from base64;
// a Secret created, updated and deleted behind the source's back is followed by its watch and
// reported to watchers; a Secret that does not exist or cannot be read is an error naming it,
// never empty material; and only named Secrets are ever asked for.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { secretCredentialsFrom } from "../../adapters/kubernetes/secrets.ts";
import type { CredentialSource } from "../../runtime/security/credential-source.ts";
import { createKubeStore, kubeClient, startKubeApi, type KubeApi } from "../support/kube-api.ts";
import { eventually } from "../support/mesh.ts";

const test = suite("kubernetes secrets");

/** uvu has no rejects(): the error a promise is rejected with, failing when it fulfils */
async function rejects(promise: () => Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise().then(() => undefined, (e: Error) => e);
  assert.ok(error, "expected a rejection");
  assert.match(error.message, message);
}
const open: { api?: KubeApi; source?: CredentialSource } = {};

const b64 = (text: string) => btoa(text);
const secret = (name: string, data: Record<string, string>, type = "Opaque") => ({
  apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "edge" }, type,
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

function start(options: { token?: string; clientToken?: string } = {}) {
  const store = createKubeStore();
  const client = kubeClient(store);
  const api = (open.api = startKubeApi({ store, token: options.token }));
  const logs: string[] = [];
  const source = (open.source = secretCredentialsFrom(
    { server: api.address, origin: "test", token: options.clientToken, backoff: { baseMs: 50, maxMs: 200 }, log: (m) => logs.push(m) },
    "edge",
  ));
  return { client, api, source, logs };
}

test.after.each(async () => {
  open.source?.close();
  await open.api?.stop();
  open.source = open.api = undefined;
});

test("a tls Secret's pair, and the CA from NAME-cacert when the Secret has none", async () => {
  const { client, source } = start();
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "edge" } });
  await client.create(secret("gw", { "tls.crt": "CERT", "tls.key": "KEY" }, "kubernetes.io/tls"));
  await client.create(secret("gw-cacert", { "ca.crt": "CA" }));
  assert.equal(await source.read("gw", { pair: true, ca: "required" }), { certChainPem: "CERT", keyPem: "KEY", caPem: "CA" });
  assert.equal(await source.read("gw", { pair: true, ca: "none" }), { certChainPem: "CERT", keyPem: "KEY" });
  assert.equal(await source.read("gw", { pair: false, ca: "required" }), { caPem: "CA" });
});

test("a missing Secret or role is an error naming it; an optional CA may be absent", async () => {
  const { client, source } = start();
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "edge" } });
  await client.create(secret("pair-only", { cert: "C", key: "K" }));
  assert.equal(await source.read("pair-only", { pair: true, ca: "optional" }), { certChainPem: "C", keyPem: "K" });
  await rejects(() => source.read("pair-only", { pair: true, ca: "required" }), /no ca\.crt \(or cacert\) in Secret pair-only or pair-only-cacert in namespace edge/);
  await rejects(() => source.read("nobody", { pair: true, ca: "none" }), /no Secret nobody in namespace edge/);
  await rejects(() => source.read("../etc", { pair: true, ca: "none" }), /not a Secret name/);
});

test("created, updated and deleted behind its back: reads follow, watchers are told", async () => {
  const { client, source } = start();
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "edge" } });
  let told = 0;
  const stop = source.watch!("late", false, () => told++);
  await rejects(() => source.read("late", { pair: true, ca: "none" }), /no Secret late/);
  await client.create(secret("late", { "tls.crt": "ONE", "tls.key": "K1" }, "kubernetes.io/tls"));
  await eventually(async () => told >= 1 || undefined, 5000, "the creation seen");
  assert.is((await source.read("late", { pair: true, ca: "none" })).certChainPem, "ONE");
  await client.apply(secret("late", { "tls.crt": "TWO", "tls.key": "K2" }, "kubernetes.io/tls"));
  await eventually(async () => (await source.read("late", { pair: true, ca: "none" })).certChainPem === "TWO" || undefined, 5000, "the update read");
  assert.ok(told >= 2, `watchers told of the update (${told})`);
  await client.delete("v1", "Secret", "edge", "late");
  await eventually(async () => source.read("late", { pair: true, ca: "none" }).then(() => undefined, (e: Error) => /no Secret late/.test(e.message) || undefined), 5000, "the deletion seen");
  stop();
});

test("only named Secrets are asked for, each by fieldSelector metadata.name", async () => {
  const { client, api, source } = start();
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "edge" } });
  await client.create(secret("wanted", { "tls.crt": "C", "tls.key": "K" }));
  await client.create(secret("private", { password: "hunter2" }));
  await source.read("wanted", { pair: true, ca: "optional" });
  const asked = api.requests.filter((r) => r.path.includes("/secrets"));
  assert.ok(asked.length >= 2, JSON.stringify(asked));
  for (const r of asked) {
    assert.is(r.path, "/api/v1/namespaces/edge/secrets");
    assert.match(r.query.fieldSelector, /^metadata\.name=(wanted|wanted-cacert)$/);
  }
});

test("a Secret the proxy may not read (401) is an error with the API's reason, retried", async () => {
  const { client, source, logs } = start({ token: "right", clientToken: "wrong" });
  await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "edge" } });
  await client.create(secret("gw", { "tls.crt": "C", "tls.key": "K" }));
  await rejects(() => source.read("gw", { pair: true, ca: "none" }), /cannot list Secret gw in namespace edge: .*401/);
  assert.ok(logs.some((l) => /credential gw: cannot list Secret gw/.test(l)), logs.join("\n"));
});

test.run();
