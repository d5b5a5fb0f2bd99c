// The port a request for one service port goes to on one endpoint (Istio's rule).
import type { Endpoint, ServicePortModel } from "../../runtime/model/types.ts";

/** endpoint.ports[name], else the service port's targetPort, else its number */
export function endpointPort(endpoint: Endpoint, servicePort: ServicePortModel): number {
  // hasOwn, so a port named "constructor" cannot read Object.prototype
  const mapped = Object.hasOwn(endpoint.ports, servicePort.name) ? endpoint.ports[servicePort.name] : undefined;
  if (mapped !== undefined && mapped > 0) return mapped;
  return servicePort.targetPort !== undefined && servicePort.targetPort > 0 ? servicePort.targetPort : servicePort.number;
}
