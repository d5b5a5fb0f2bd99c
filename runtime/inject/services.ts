// Without iptables nothing redirects a pod's incoming traffic to its sidecar, so a Service has to
// send it there: the ports of a Service (in the same input) that selects an injected pod and targets
// its app port are retargeted to the sidecar's inbound port, which forwards to the app.
import { PORTS } from "./defaults.ts";
import { isObject, type Obj } from "./pod-template.ts";

export interface InjectedWorkload {
  namespace?: string;
  labels: Record<string, string>;
  appPort?: number;
  appPortName?: string;
}

function selects(service: Obj, workload: InjectedWorkload): boolean {
  const spec = service.spec as Obj;
  if (!isObject(spec.selector) || !Object.keys(spec.selector).length) return false;
  const namespace = isObject(service.metadata) && typeof service.metadata.namespace === "string" ? service.metadata.namespace : undefined;
  // an unset namespace is whatever kubectl applies the file to: assume it is the same
  if (namespace && workload.namespace && namespace !== workload.namespace) return false;
  return Object.entries(spec.selector).every(([k, v]) => workload.labels[k] === String(v));
}

/** retargets the Service's matching ports in place; true when anything changed */
export function retargetService(service: Obj, workloads: readonly InjectedWorkload[]): boolean {
  if (!isObject(service.spec) || !Array.isArray(service.spec.ports)) return false;
  const targets = workloads.filter((w) => w.appPort !== undefined && selects(service, w));
  let changed = false;
  for (const port of service.spec.ports) {
    if (!isObject(port)) continue;
    const target = port.targetPort ?? port.port;
    const hit = targets.some((w) => target === w.appPort || String(target) === String(w.appPort) || (w.appPortName !== undefined && target === w.appPortName));
    if (hit && target !== PORTS.inbound) {
      port.targetPort = PORTS.inbound;
      changed = true;
    }
  }
  return changed;
}
