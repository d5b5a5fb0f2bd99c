// Where the API server is and who we are, read the way client-go reads it: a kubeconfig file
// (its current context: cluster server and CA, user token or client certificate) or, inside a
// pod, KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token and CA.
import { parse } from "yaml";
import { z } from "zod";
import { KubeConfigError, type KubeConnection } from "./options.ts";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

type ReadFile = (path: string) => Promise<string>;

const clusterSchema = z.object({
  server: z.string(),
  "certificate-authority": z.string().optional(),
  "certificate-authority-data": z.string().optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
  "tls-server-name": z.string().optional(),
});
const userSchema = z.object({
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  "client-certificate": z.string().optional(),
  "client-certificate-data": z.string().optional(),
  "client-key": z.string().optional(),
  "client-key-data": z.string().optional(),
  username: z.string().optional(),
  exec: z.unknown().optional(),
  "auth-provider": z.unknown().optional(),
});
// a context's namespace is kubectl's default for commands; the registry watches all namespaces
const contextSchema = z.object({ cluster: z.string(), user: z.string().optional(), namespace: z.string().optional() });

const kubeconfigSchema = z.object({
  "current-context": z.string().nullish(),
  clusters: z.array(z.object({ name: z.string(), cluster: clusterSchema })).nullish(),
  users: z.array(z.object({ name: z.string(), user: userSchema.nullish() })).nullish(),
  contexts: z.array(z.object({ name: z.string(), context: contextSchema })).nullish(),
});

const dirOf = (path: string) => (path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".");
const decode = (b64: string) => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

/** the current context of a kubeconfig file (or `context`); file paths in it are relative to the file */
export async function connectionFromKubeconfig(path: string, readFile: ReadFile, context?: string): Promise<KubeConnection> {
  let text: string;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new KubeConfigError(`kubernetes: cannot read kubeconfig ${path}: ${(error as Error).message}`);
  }
  const parsed = kubeconfigSchema.safeParse(parse(text));
  if (!parsed.success) throw new KubeConfigError(`kubernetes: ${path} is not a kubeconfig: ${parsed.error.issues[0]?.message} at ${parsed.error.issues[0]?.path.join(".")}`);
  const config = parsed.data;
  const name = context ?? config["current-context"];
  if (!name) throw new KubeConfigError(`kubernetes: ${path} has no current-context`);
  const ctx = config.contexts?.find((c) => c.name === name)?.context;
  if (!ctx) throw new KubeConfigError(`kubernetes: ${path} has no context "${name}"`);
  const cluster = config.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new KubeConfigError(`kubernetes: ${path}: context "${name}" names cluster "${ctx.cluster}", which is not defined`);
  let user: z.infer<typeof userSchema> | null | undefined;
  if (ctx.user) {
    const entry = config.users?.find((u) => u.name === ctx.user);
    if (!entry) throw new KubeConfigError(`kubernetes: ${path}: context "${name}" names user "${ctx.user}", which is not defined`);
    user = entry.user;
  }
  const origin = `kubeconfig ${path} (context ${name})`;
  if (user?.exec || user?.["auth-provider"]) {
    throw new KubeConfigError(`kubernetes: ${origin}: exec and auth-provider credential plugins are not supported; use a bearer token (kubectl create token <service-account>)`);
  }
  if (user?.username) throw new KubeConfigError(`kubernetes: ${origin}: basic auth is not supported (Kubernetes removed it); use a bearer token`);
  const base = dirOf(path);
  const resolve = (p: string) => (p.startsWith("/") ? p : `${base}/${p}`);
  const file = async (p: string | undefined, data: string | undefined, what: string) => {
    if (data) return decode(data);
    if (!p) return undefined;
    try {
      return await readFile(resolve(p));
    } catch (error) {
      throw new KubeConfigError(`kubernetes: ${origin}: cannot read the ${what} ${resolve(p)}: ${(error as Error).message}`);
    }
  };
  const connection: KubeConnection = { server: cluster.server.replace(/\/+$/, ""), origin };
  const ca = await file(cluster["certificate-authority"], cluster["certificate-authority-data"], "certificate authority");
  if (ca) connection.ca = ca;
  if (cluster["insecure-skip-tls-verify"]) connection.insecureSkipTlsVerify = true;
  if (cluster["tls-server-name"]) connection.tlsServerName = cluster["tls-server-name"];
  if (user?.token) connection.token = user.token;
  else if (user?.tokenFile) connection.tokenFile = resolve(user.tokenFile);
  const cert = await file(user?.["client-certificate"], user?.["client-certificate-data"], "client certificate");
  const key = await file(user?.["client-key"], user?.["client-key-data"], "client key");
  if (cert) connection.clientCert = cert;
  if (key) connection.clientKey = key;
  return connection;
}

/** inside a pod: the API server's service address and the mounted service-account token and CA */
export async function connectionInCluster(env: (name: string) => string | undefined, readFile: ReadFile, dir = SERVICE_ACCOUNT_DIR): Promise<KubeConnection> {
  const host = env("KUBERNETES_SERVICE_HOST");
  const port = env("KUBERNETES_SERVICE_PORT");
  if (!host || !port) throw new KubeConfigError("kubernetes: not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset); pass --kubeconfig FILE");
  const tokenFile = `${dir}/token`;
  try {
    await readFile(tokenFile);
  } catch (error) {
    throw new KubeConfigError(`kubernetes: in a cluster but the service-account token ${tokenFile} is unreadable (automountServiceAccountToken: false?): ${(error as Error).message}`);
  }
  let ca: string | undefined;
  try {
    ca = await readFile(`${dir}/ca.crt`);
  } catch {
    ca = undefined;
  }
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { server, tokenFile, ...(ca ? { ca } : {}), origin: "in-cluster service account" };
}

export interface ConnectionSpec {
  /** --kubeconfig FILE */
  kubeconfig?: string;
  context?: string;
}

/** --kubeconfig, else in-cluster when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG (its first file) */
export async function resolveConnection(spec: ConnectionSpec, env: (name: string) => string | undefined, readFile: ReadFile): Promise<KubeConnection> {
  if (spec.kubeconfig) return connectionFromKubeconfig(spec.kubeconfig, readFile, spec.context);
  if (env("KUBERNETES_SERVICE_HOST")) return connectionInCluster(env, readFile);
  const fromEnv = env("KUBECONFIG")?.split(":").find(Boolean);
  if (fromEnv) return connectionFromKubeconfig(fromEnv, readFile, spec.context);
  throw new KubeConfigError("kubernetes: no --kubeconfig given, not in a cluster (KUBERNETES_SERVICE_HOST unset) and KUBECONFIG unset");
}
