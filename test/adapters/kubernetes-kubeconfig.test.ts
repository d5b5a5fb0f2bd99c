// Where the Kubernetes registry connects and with what credentials: kubeconfig files (current or
// named context, tokens, token files, CA and client-certificate data, paths relative to the
// file), the in-cluster service account, the precedence between them, and the TLS hook.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connectionFromKubeconfig, connectionInCluster, resolveConnection } from "../../adapters/kubernetes/kubeconfig.ts";
import { kubeOptionsFrom, KubeConfigError } from "../../adapters/kubernetes/index.ts";
import { kubeFetch, type KubeTls } from "../../adapters/kubernetes/transport.ts";
import { parseRegistrySpec } from "../../runtime/discovery/config-watch.ts";

const files = new Map<string, string>();
const read = async (path: string) => {
  const text = files.get(path);
  if (text === undefined) throw new Error(`ENOENT: ${path}`);
  return text;
};
const env = (vars: Record<string, string>) => (name: string) => vars[name];
const b64 = (text: string) => btoa(text);

const kubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster: { server: "https://10.0.0.1:6443/", certificate-authority-data: ${b64("CA PEM")} }
- name: prod-cluster
  cluster: { server: "https://prod.example:443", certificate-authority: certs/ca.crt, tls-server-name: kubernetes }
users:
- name: dev-user
  user: { token: abc123 }
- name: prod-user
  user: { tokenFile: secrets/token, client-certificate: certs/me.crt, client-key-data: ${b64("KEY PEM")} }
- name: sso
  user: { exec: { command: aws, args: [eks, get-token] } }
contexts:
- name: dev
  context: { cluster: dev-cluster, user: dev-user, namespace: team }
- name: prod
  context: { cluster: prod-cluster, user: prod-user }
- name: sso
  context: { cluster: dev-cluster, user: sso }
- name: broken
  context: { cluster: nowhere, user: dev-user }
`;
files.set("/home/me/.kube/config", kubeconfig);
files.set("/home/me/.kube/certs/ca.crt", "PROD CA PEM");
files.set("/home/me/.kube/certs/me.crt", "CERT PEM");

test("kubeconfig: the current context's server, token and CA data; its namespace is not a watch scope", async () => {
  const c = await connectionFromKubeconfig("/home/me/.kube/config", read);
  assert.equal(c, { server: "https://10.0.0.1:6443", origin: "kubeconfig /home/me/.kube/config (context dev)", ca: "CA PEM", token: "abc123" });
  const options = await kubeOptionsFrom({ kubeconfig: "/home/me/.kube/config" }, env({}), read);
  assert.is(options.namespace, undefined, "kubectl's default namespace, not what the registry watches");
  assert.is((await kubeOptionsFrom({ kubeconfig: "/home/me/.kube/config", namespace: "shop" }, env({}), read)).namespace, "shop");
});

test("kubeconfig: a named context; files relative to the kubeconfig; token files and client certificates", async () => {
  const c = await connectionFromKubeconfig("/home/me/.kube/config", read, "prod");
  assert.equal(c, {
    server: "https://prod.example:443", origin: "kubeconfig /home/me/.kube/config (context prod)", ca: "PROD CA PEM", tlsServerName: "kubernetes",
    tokenFile: "/home/me/.kube/secrets/token", clientCert: "CERT PEM", clientKey: "KEY PEM",
  });
});

test("kubeconfig: clear errors for what cannot work", async () => {
  const fails = async (promise: Promise<unknown>, pattern: RegExp) => {
    try {
      await promise;
    } catch (error) {
      assert.instance(error, KubeConfigError);
      assert.match((error as Error).message, pattern);
      return;
    }
    assert.unreachable("should have failed");
  };
  await fails(connectionFromKubeconfig("/home/me/.kube/config", read, "sso"), /exec and auth-provider credential plugins are not supported/);
  await fails(connectionFromKubeconfig("/home/me/.kube/config", read, "broken"), /names cluster "nowhere", which is not defined/);
  await fails(connectionFromKubeconfig("/home/me/.kube/config", read, "staging"), /has no context "staging"/);
  await fails(connectionFromKubeconfig("/nope", read), /cannot read kubeconfig \/nope/);
  files.set("/bad", "clusters: 3\n");
  await fails(connectionFromKubeconfig("/bad", read), /\/bad is not a kubeconfig/);
});

test("in-cluster: the service host and port, the mounted token (as a file, re-read) and CA", async () => {
  files.set("/sa/token", "jwt");
  files.set("/sa/ca.crt", "CLUSTER CA");
  const c = await connectionInCluster(env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }), read, "/sa");
  assert.equal(c, { server: "https://10.96.0.1:443", tokenFile: "/sa/token", ca: "CLUSTER CA", origin: "in-cluster service account" });
  const v6 = await connectionInCluster(env({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }), read, "/sa");
  assert.is(v6.server, "https://[fd00::1]:443");
  try {
    await connectionInCluster(env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }), read, "/empty");
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /service-account token \/empty\/token is unreadable/);
  }
});

test("precedence: --kubeconfig, then in-cluster, then $KUBECONFIG; none of them is an error", async () => {
  const inCluster = env({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", KUBECONFIG: "/home/me/.kube/config" });
  assert.match((await resolveConnection({ kubeconfig: "/home/me/.kube/config" }, inCluster, read)).origin, /^kubeconfig/);
  // the real service-account folder does not exist here, so in-cluster fails on its token
  try {
    await resolveConnection({}, inCluster, read);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /in a cluster but the service-account token/);
  }
  assert.match((await resolveConnection({}, env({ KUBECONFIG: ":/home/me/.kube/config:/other" }), read)).origin, /context dev/);
  try {
    await resolveConnection({}, env({}), read);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /no --kubeconfig given, not in a cluster/);
  }
});

test("TLS: plain http and https without extra settings use fetch; a CA or client certificate needs the platform hook", async () => {
  const base = { origin: "test" };
  const logs: string[] = [];
  assert.ok(kubeFetch({ ...base, server: "http://127.0.0.1:1" }, undefined));
  assert.ok(kubeFetch({ ...base, server: "https://api.example" }, undefined));
  assert.ok(kubeFetch({ ...base, server: "https://api.example", ca: "CA" }, undefined, (m) => logs.push(m)));
  assert.match(logs[0], /NODE_EXTRA_CA_CERTS on Bun, DENO_CERT on Deno/);
  assert.throws(() => kubeFetch({ ...base, server: "https://api.example", clientCert: "C", clientKey: "K" }, undefined), /client certificate, which needs a TLS fetch/);
  const asked: KubeTls[] = [];
  const hooked = kubeFetch({ ...base, server: "https://api.example", ca: "CA", clientCert: "C", clientKey: "K" }, (tls) => {
    asked.push(tls);
    return () => Promise.resolve(new Response("{}"));
  });
  assert.equal(asked, [{ ca: "CA", cert: "C", key: "K", insecureSkipVerify: undefined, serverName: undefined }]);
  assert.is(await (await hooked("https://api.example/api", {})).text(), "{}");
});

test("--registry kubernetes[=NAMESPACE] with --kubeconfig", () => {
  assert.equal(parseRegistrySpec("kubernetes"), { kind: "kubernetes" });
  assert.equal(parseRegistrySpec("kubernetes=shop", { kubeconfig: "/kc" }), { kind: "kubernetes", namespace: "shop", kubeconfig: "/kc" });
  assert.is(parseRegistrySpec("kube"), undefined);
});

test.run();
