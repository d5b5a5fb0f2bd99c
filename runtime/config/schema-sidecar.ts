// The zod schema of Istio's Sidecar (networking.istio.io v1alpha3/v1beta1/v1): what a workload's
// outbound side knows (egress[].hosts) and does with a host it does not know
// (outboundTrafficPolicy.mode). dietmesh has one outbound listener and one inbound path to the app,
// so the fields that shape per-port listeners, bind addresses, capture modes, the inbound side or
// an egress proxy are refused at load with their path rather than kept and not acted on.
import { z } from "zod";
import { dnsLabel, obj, rejected, rule, stringMap } from "./schema-common.ts";

/**
 * "namespace/dnsName": namespace is a name, "*" (any), "." (the workload's own) or "~" (none);
 * dnsName is "*", "*.suffix" or an exact name (Istio's validateSidecarEgressHosts' shape)
 */
function egressHostProblem(h: string): string | undefined {
  const slash = h.indexOf("/");
  if (slash === -1 || h.indexOf("/", slash + 1) !== -1) return `expected "namespace/dnsName" (such as "./*", "*/*" or "istio-system/*.example.com"), got ${JSON.stringify(h)}`;
  const ns = h.slice(0, slash);
  const host = h.slice(slash + 1);
  if (ns !== "*" && ns !== "." && ns !== "~" && !dnsLabel.safeParse(ns).success) return `the namespace part must be a namespace, "*", "." or "~", got ${JSON.stringify(ns)}`;
  if (host === "") return `the dnsName part must not be empty, got ${JSON.stringify(h)}`;
  if (/[:\s/]/.test(host)) return `the dnsName part is a host name without scheme or port, got ${JSON.stringify(host)}`;
  if (host.indexOf("*", 1) !== -1 || (host.startsWith("*") && host !== "*" && !host.startsWith("*."))) return `a wildcard may only be the first label ("*" or "*.example.com"), got ${JSON.stringify(host)}`;
  return undefined;
}

const egressHost = z.string().check((ctx) => {
  const problem = egressHostProblem(ctx.value);
  if (problem) ctx.issues.push({ code: "custom", input: ctx.value, message: problem });
});

const egressListener = obj({
  // one outbound listener for every port: a per-port listener with its own hosts is not dietmesh's shape
  port: rejected("dietmesh has one outbound listener for every port, so egress listeners per port are not built; list the hosts in one egress entry without a port"),
  bind: rejected("dietmesh binds its one outbound listener from --outbound, not from the Sidecar"),
  captureMode: rejected("dietmesh does not capture traffic (no iptables): an app calls its outbound listener itself"),
  hosts: z.array(egressHost).min(1, { error: "egress hosts must list at least one \"namespace/dnsName\"" }),
});

export const sidecarSpec = obj({
  workloadSelector: obj({ labels: stringMap.optional() }).optional(),
  ingress: rejected("dietmesh's inbound side is the one --app address (and its mesh listener); Sidecar ingress listeners are not built"),
  egress: z.array(egressListener).optional(),
  inboundConnectionPool: rejected("inbound connection pool settings are not built: the inbound side has no connection pool to the app to size"),
  outboundTrafficPolicy: obj({
    mode: z.enum(["REGISTRY_ONLY", "ALLOW_ANY"]).optional(),
    egressProxy: rejected("an egress proxy for unknown hosts is not built; use REGISTRY_ONLY or ALLOW_ANY"),
  }).optional(),
}).check(rule((ctx) => {
  // port is refused above, so every egress listener is a catch-all: Istio allows only one
  if ((ctx.value.egress?.length ?? 0) > 1) ctx.issues.push({ code: "custom", input: ctx.value.egress, path: ["egress", 1], message: "only one egress listener without a port may be given (Istio's rule); put all hosts in one" });
}));
