// Builds Envoy-style clusters (service port, optional subset) with their hosts and balancer.
// Every compile builds fresh hosts: requests in flight finish on the old objects, and state that
// must outlive a reload (outlier ejections) is keyed by address outside the table.
import type { DestinationRule } from "../config/types.ts";
import type { Cluster } from "./route-table.ts";
import type { Service, ServicePortModel } from "./types.ts";
import { createHost, type UpstreamHost } from "../resilience/balancers/host-set.ts";
import { createBalancer, hashKeyFor } from "../resilience/balancers/index.ts";
import { endpointPort } from "../../adapters/static/endpoint-port.ts";
import { findSubset, policyFor } from "./destination-rules.ts";

export function clusterName(service: Service, port: ServicePortModel, subset?: string): string {
  return `outbound|${port.number}|${subset ?? ""}|${service.hostname}`;
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

export function buildCluster(
  service: Service,
  port: ServicePortModel,
  subsetName: string | undefined,
  rule: DestinationRule | undefined,
  random: () => number,
): Cluster {
  // a registry fetching endpoints on first use learns this service is used (model/types.ts)
  service.use?.();
  const subset = findSubset(rule, subsetName);
  const policy = policyFor(rule, port.number, subset);
  const hosts: UpstreamHost[] = [];
  // A subset the rule does not define selects nothing: requests get 503 UH, and `check` reports it.
  const selectsNothing = subsetName !== undefined && !subset;
  if (!selectsNothing) {
    for (const endpoint of service.endpoints) {
      if (!endpoint.ready || !labelsMatch(subset?.labels, endpoint.labels)) continue;
      hosts.push(createHost(endpoint, endpointPort(endpoint, port)));
    }
  }
  const consistentHash = policy.loadBalancer?.consistentHash;
  return {
    name: clusterName(service, port, subsetName),
    service,
    port,
    subset: subsetName,
    hosts,
    balancer: createBalancer(policy.loadBalancer, hosts, random),
    policy,
    hashKey: consistentHash ? (request, sourceIp) => hashKeyFor(consistentHash, request, sourceIp) : undefined,
  };
}
