// Istio's "Egress Gateways with TLS Origination" task, its current mutual TLS section, with the
// task's YAML unchanged (test/fixtures/istio-tasks/egress-gateway-mtls-credential/): the app calls
// http://my-nginx.mesh-external.svc.cluster.local through its sidecar, which sends it over
// ISTIO_MUTUAL (SNI my-nginx.mesh-external.svc.cluster.local) to the egress gateway's ISTIO_MUTUAL
// server (its SVID from the mesh CA); the gateway originates mutual TLS with the DestinationRule's
// `credentialName: client-credential` — the task's generic Secret (tls.key, tls.crt, ca.crt), here
// a folder under --credentials-dir — to the server, which requires the client certificate.
// What the test writes in place of Kubernetes: the two Services (my-nginx in mesh-external, the
// egress gateway's) as ServiceEntries. The rule applied with `-n istio-system` goes to the gateway
// only: in a cluster the sidecar sees it too and Istio ignores its credentialName there, where a
// dietmesh sidecar without a credential source refuses it (docs/security.md).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { startNginxMutualTls } from "../support/nginx-mutual-tls.ts";
import type { Child } from "../../runtime/platform/process.ts";
import { dietmesh, eventually, must, run, startSidecar, stopAll, tempConfig, type Sidecar } from "../support/mesh.ts";

const fixtures = new URL("../fixtures/istio-tasks/egress-gateway-mtls-credential/", import.meta.url).pathname;
const HOST = "my-nginx.mesh-external.svc.cluster.local";
let work: string;
let sidecarConfig: string;
let gatewayConfig: string;
let sidecar: Sidecar;
let gateway: Child;
let seen: { sni: string; client: string }[] = [];
const closers: (() => void)[] = [];

const fixture = (name: string) => platform.readTextFile(`${fixtures}${name}`);

/** what Kubernetes would make: a Service, as a ServiceEntry with its endpoint */
const service = (name: string, namespace: string, host: string, address: string, serviceAccount?: string) => {
  const [ip, port] = address.split(":");
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: https, protocol: HTTPS }]
  endpoints: [{ address: ${ip}, ports: { https: ${port} }${serviceAccount ? `, serviceAccount: ${serviceAccount}` : ""} }]
`;
};

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-task-egress-mtls-credential-");
  const sh = (script: string) => must("sh", ["-c", `cd ${work} && ${script}`]);
  const leaf = (name: string, cn: string, san: string) =>
    sh(`openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=${cn} -keyout ${name}.key -out ${name}.csr 2>/dev/null && printf 'subjectAltName=${san}\\n' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA example.com.crt -CAkey example.com.key -CAcreateserial -days 1 -extfile ${name}.ext -out ${name}.crt 2>/dev/null`);
  // the task's certificates: the example.com CA, the server's and client.example.com's
  await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /O=example-Inc./CN=example.com -keyout example.com.key -out example.com.crt 2>/dev/null");
  await leaf("server", HOST, `DNS:${HOST}`);
  await leaf("client.example.com", "client.example.com", "DNS:client.example.com");
  // kubectl create secret -n istio-system generic client-credential --from-file=tls.key=… tls.crt=… ca.crt=…
  await sh("mkdir -p creds/client-credential && cp client.example.com.key creds/client-credential/tls.key && cp client.example.com.crt creds/client-credential/tls.crt && cp example.com.crt creds/client-credential/ca.crt");
  await must("dietmesh", ["ca", "init", "--dir", `${work}/mesh-ca`]);

  // nginx with ssl_verify_client on: no certificate → 400, as nginx answers
  const nginx = await startNginxMutualTls({ key: await platform.readTextFile(`${work}/server.key`), cert: await platform.readTextFile(`${work}/server.crt`), ca: await platform.readTextFile(`${work}/example.com.crt`) });
  seen = nginx.seen;
  closers.push(() => nginx.close());
  const nginxService = service("my-nginx", "mesh-external", HOST, `127.0.0.1:${nginx.port}`);

  gatewayConfig = await tempConfig({ "my-nginx.yaml": nginxService, "gateway.yaml": await fixture("gateway.yaml"), "virtual-service.yaml": await fixture("virtual-service.yaml"), "originate-mtls.yaml": await fixture("originate-mtls.yaml") });
  gateway = dietmesh(["gateway", "--config", gatewayConfig, "--bind", "443=127.0.0.1:0", "--admin", "127.0.0.1:0", "--labels", "app=istio-egressgateway,istio=egressgateway", "--namespace", "istio-system", "--service-account", "istio-egressgateway-service-account", "--ca-dir", `${work}/mesh-ca`, "--credentials-dir", `${work}/creds`, "--access-log", "text"]);
  const [, gatewayAddress] = await gateway.waitFor(/gateway port 443 listening on (\S+)/);
  await gateway.waitFor(/ready on /);
  const egressService = service("istio-egressgateway", "istio-system", "istio-egressgateway.istio-system.svc.cluster.local", gatewayAddress, "istio-egressgateway-service-account");
  sidecarConfig = await tempConfig({ "my-nginx.yaml": nginxService, "egress-gateway-service.yaml": egressService, "gateway.yaml": await fixture("gateway.yaml"), "virtual-service.yaml": await fixture("virtual-service.yaml") });
  sidecar = await startSidecar(sidecarConfig, ["--ca-dir", `${work}/mesh-ca`, "--service-account", "sleep", "--labels", "app=sleep"]);
});

test.after(async () => {
  stopAll();
  gateway?.kill("SIGKILL");
  for (const close of closers) close();
  for (const dir of [work, sidecarConfig, gatewayConfig]) if (dir) await platform.remove(dir);
});

test("curl http://my-nginx.mesh-external.svc.cluster.local gets nginx's page: mutual TLS originated by the egress gateway with credentialName client-credential", async () => {
  let out = "";
  await eventually(async () => {
    out = (await run("curl", ["-sS", "--max-time", "10", "-x", `http://${sidecar.outbound}`, `http://${HOST}`])).out;
    return /Welcome to nginx!/.test(out);
  }, 10_000, "nginx's page");
  assert.match(out, /Welcome to nginx!/);
  assert.equal(seen.at(-1), { sni: HOST, client: "client.example.com" }, "the server saw the SNI and the credential's client certificate");
  const [line] = await gateway.waitFor(/"GET \/ HTTP\/1\.1" 200 .*/);
  assert.match(line, new RegExp(`outbound\\|443\\|\\|${HOST.replaceAll(".", "\\.")}`));
});

test.run();
