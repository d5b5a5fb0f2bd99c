// How to reach the Kubernetes API and what to watch: the connection (server, credentials, TLS
// material) from a kubeconfig file or from inside a pod, plus the watch settings.
import type { Clock } from "../../runtime/lib/clock.ts";
import type { BackoffOptions } from "../../runtime/model/registry-recover.ts";
import type { TlsFetchFactory } from "./transport.ts";

export interface KubeConnection {
  /** "https://10.96.0.1:443", "http://127.0.0.1:6443" */
  server: string;
  /** a bearer token */
  token?: string;
  /** a file holding the bearer token, read again before every list and watch (bound tokens rotate) */
  tokenFile?: string;
  /** PEM: the CA that signed the API server's certificate */
  ca?: string;
  /** PEM: client certificate and key (kubeconfig client-certificate auth) */
  clientCert?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  /** where this came from, for messages: "kubeconfig ./kc (context test)", "in-cluster" */
  origin: string;
}

export interface KubeOptions extends KubeConnection {
  /** watch only this namespace (default: all namespaces) */
  namespace?: string;
  /** the cluster's DNS domain (default cluster.local) */
  domainSuffix?: string;
  /** the mesh's trust domain: endpoints' expected identities (default cluster.local) */
  trustDomain?: string;
  /** items per list page (default 500, as client-go's reflector) */
  pageSize?: number;
  /** each watch asks the server to end it after a random time in this range (default 300-600 s) */
  watchTimeoutSeconds?: { min: number; max: number };
  /**
   * above this many Services (counted when a run lists them), EndpointSlices and Pods are watched
   * only for the services a proxy uses, by label selector (default 200, the on-demand compile's size)
   */
  endpointsOnDemandAbove?: number;
  /** a service's endpoint watches stop after it has been unused this long (default 600 s) */
  endpointIdleMs?: number;
  /** how long a first request waits for its service's first endpoint lists (default 5 s) */
  firstListMs?: number;
  /** restart delays of the whole watch after a failed list (registry-recover) */
  backoff?: BackoffOptions;
  /** delays between attempts to resume a broken watch from its resourceVersion */
  watchBackoff?: BackoffOptions;
  /** reads tokenFile */
  readTextFile?: (path: string) => Promise<string>;
  /** https with a cluster CA or client certificates: the platform's TLS-capable fetch */
  tls?: TlsFetchFactory;
  clock?: Clock;
  random?: () => number;
  log?: (message: string) => void;
  /** each sync and each failed watch (registry-recover's onSync) */
  onSync?: (ok: boolean, atMs: number) => void;
}

export class KubeConfigError extends Error {
  readonly code = "KUBE_CONFIG";
}
