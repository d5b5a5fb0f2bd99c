// PeerAuthentication → the mTLS mode a workload's inbound port accepts: STRICT (mTLS only),
// PERMISSIVE (mTLS or plaintext), DISABLE (plaintext). istiod's ComposePeerAuthentication:
// - candidates are the policies in the root namespace and the workload's own whose selector
//   matches (no or empty selector = every workload);
// - mesh level = no selector in the root namespace; namespace level = no selector in the
//   workload's namespace; workload level = a selector outside the root namespace (a selector
//   policy in the root namespace is ignored, as istiod ignores it);
// - several at one level: the oldest creationTimestamp wins, then the name, then the namespace;
// - the narrowest level that sets a mode wins; UNSET (or no mtls) inherits from the level above;
//   nothing set anywhere → PERMISSIVE;
// - portLevelMtls of the winning workload policy overrides per port, UNSET there inheriting the
//   workload's mode.
import type { MutualTLSMode, PeerAuthentication } from "../../config/types.ts";
import { DEFAULT_ROOT_NAMESPACE, hasSelector, olderFirst, policyName, selectorMatches, type WorkloadRef } from "./workload-scope.ts";

export type PeerMtlsMode = Exclude<MutualTLSMode, "UNSET">;

export interface PeerAuthenticationDecision {
  /** the mode for ports without a port-level setting */
  mode: PeerMtlsMode;
  ports: ReadonlyMap<number, PeerMtlsMode>;
  /** which policy each level took ("namespace/name"), for config dumps and logs */
  chosen: { mesh?: string; namespace?: string; workload?: string };
}

const setMode = (m: MutualTLSMode | undefined): PeerMtlsMode | undefined => (m === undefined || m === "UNSET" ? undefined : m);

export function resolvePeerAuthentication(
  policies: readonly PeerAuthentication[],
  workload: WorkloadRef,
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): PeerAuthenticationDecision {
  let mesh: PeerAuthentication | undefined;
  let namespace: PeerAuthentication | undefined;
  let selected: PeerAuthentication | undefined;
  const older = (a: PeerAuthentication, b: PeerAuthentication | undefined) => b === undefined || olderFirst(a, b) < 0;
  for (const p of policies) {
    const ns = p.metadata.namespace;
    if (ns !== rootNamespace && ns !== workload.namespace) continue;
    if (!selectorMatches(p.spec.selector, workload.labels)) continue;
    if (!hasSelector(p)) {
      if (ns === rootNamespace) mesh = older(p, mesh) ? p : mesh;
      else namespace = older(p, namespace) ? p : namespace;
    } else if (ns !== rootNamespace) selected = older(p, selected) ? p : selected;
  }

  let mode: PeerMtlsMode = "PERMISSIVE";
  for (const p of [mesh, namespace, selected]) mode = setMode(p?.spec.mtls?.mode) ?? mode;
  const ports = new Map<number, PeerMtlsMode>();
  for (const [port, mtls] of Object.entries(selected?.spec.portLevelMtls ?? {})) ports.set(Number(port), setMode(mtls.mode) ?? mode);
  const chosen = {
    ...(mesh && { mesh: policyName(mesh) }),
    ...(namespace && { namespace: policyName(namespace) }),
    ...(selected && { workload: policyName(selected) }),
  };
  return { mode, ports, chosen };
}

/** the mode per inbound port, resolved once */
export function compilePeerAuthentication(
  policies: readonly PeerAuthentication[],
  workload: WorkloadRef,
  rootNamespace = DEFAULT_ROOT_NAMESPACE,
): (port: number) => PeerMtlsMode {
  const { mode, ports } = resolvePeerAuthentication(policies, workload, rootNamespace);
  if (!ports.size) return () => mode;
  return (port) => ports.get(port) ?? mode;
}
