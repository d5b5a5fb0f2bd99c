// --registry values, parsed apart from the config watch that starts them (the CLI reads its flags
// without loading the watch, the file reader and the config worker).
/**
 * `--registry static` (ServiceEntry/WorkloadEntry in --config), `--registry consul[=URL]` or
 * `--registry kubernetes[=NAMESPACE]` (the API of --kubeconfig FILE, else the cluster the pod runs in;
 * all namespaces unless one is named; Istio config is read from the API too)
 */
export type RegistrySpec = { kind: "static" } | { kind: "consul"; url?: string } | { kind: "kubernetes"; namespace?: string; kubeconfig?: string };

export function parseRegistrySpec(value: string, context: { kubeconfig?: string } = {}): RegistrySpec | undefined {
  if (value === "static") return { kind: "static" };
  if (value === "consul") return { kind: "consul" };
  if (value.startsWith("consul=")) return { kind: "consul", url: value.slice("consul=".length) };
  if (value === "kubernetes" || value.startsWith("kubernetes=")) {
    const namespace = value.slice("kubernetes=".length);
    return { kind: "kubernetes", ...(namespace ? { namespace } : {}), ...(context.kubeconfig ? { kubeconfig: context.kubeconfig } : {}) };
  }
  return undefined;
}
