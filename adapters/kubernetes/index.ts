// The Kubernetes registry: the watch in source.ts behind the shared recover wrapper. Entry point
// of adapters/kubernetes/.
import type { Registry } from "../../runtime/model/registry.ts";
import { recoverRegistry } from "../../runtime/model/registry-recover.ts";
import { resolveConnection, type ConnectionSpec } from "./kubeconfig.ts";
import type { KubeOptions } from "./options.ts";
import { kubeSource } from "./source.ts";

export function kubernetesRegistry(options: KubeOptions): Registry {
  return recoverRegistry("kubernetes", kubeSource(options), {
    ...options.backoff,
    clock: options.clock,
    random: options.random,
    log: options.log,
    onSync: options.onSync,
  });
}

export interface KubeSpec extends ConnectionSpec {
  /** watch only this namespace (default: all) */
  namespace?: string;
}

/** options from --kubeconfig (else in-cluster, else $KUBECONFIG), the environment and the file system */
export async function kubeOptionsFrom(
  spec: KubeSpec,
  env: (name: string) => string | undefined,
  readTextFile: (path: string) => Promise<string>,
): Promise<KubeOptions> {
  const connection = await resolveConnection(spec, env, readTextFile);
  const options: KubeOptions = { ...connection, readTextFile };
  if (spec.namespace) options.namespace = spec.namespace;
  return options;
}

export { KubeConfigError, type KubeOptions, type KubeConnection } from "./options.ts";
export { connectionFromKubeconfig, connectionInCluster } from "./kubeconfig.ts";
export type { TlsFetchFactory, KubeTls } from "./transport.ts";
