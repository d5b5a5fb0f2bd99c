// The Kubernetes Pod Security Standards' "restricted" profile (baseline rules included), checked on
// a pod spec as the admission controller does: every violation, with the field path. The rules
// follow the published profile (kubernetes.io/docs/concepts/security/pod-security-standards):
// no host namespaces, ports or hostPath; no privileged containers; only the listed volume types;
// allowPrivilegeEscalation false, runAsNonRoot true and no runAsUser 0, a RuntimeDefault or
// Localhost seccomp profile, all capabilities dropped (NET_BIND_SERVICE may be added) — on every
// container, init containers included, or at pod level where the profile allows it.
type Obj = Record<string, any>;

const VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

export function restrictedViolations(pod: Obj, at = "spec"): string[] {
  const spec = pod;
  const out: string[] = [];
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[field] === true) out.push(`${at}.${field}`);
  (spec.volumes ?? []).forEach((v: Obj, i: number) => {
    const type = Object.keys(v).find((k) => k !== "name");
    if (!type || !VOLUME_TYPES.has(type)) out.push(`${at}.volumes[${i}]: ${type} volumes are not allowed`);
  });
  const podContext = spec.securityContext ?? {};
  if (podContext.runAsUser === 0) out.push(`${at}.securityContext.runAsUser: 0`);
  const podSeccomp = podContext.seccompProfile?.type;
  if (podSeccomp !== undefined && !["RuntimeDefault", "Localhost"].includes(podSeccomp)) out.push(`${at}.securityContext.seccompProfile.type: ${podSeccomp}`);
  const containers: [string, Obj][] = [
    ...(spec.initContainers ?? []).map((c: Obj, i: number) => [`${at}.initContainers[${i}]`, c] as [string, Obj]),
    ...(spec.containers ?? []).map((c: Obj, i: number) => [`${at}.containers[${i}]`, c] as [string, Obj]),
  ];
  for (const [path, c] of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged === true) out.push(`${path}.securityContext.privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${path}.securityContext.allowPrivilegeEscalation must be false`);
    const nonRoot = sc.runAsNonRoot ?? podContext.runAsNonRoot;
    if (nonRoot !== true) out.push(`${path}.securityContext.runAsNonRoot must be true (here or on the pod)`);
    if (sc.runAsUser === 0) out.push(`${path}.securityContext.runAsUser: 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (!["RuntimeDefault", "Localhost"].includes(seccomp)) out.push(`${path}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost (here or on the pod)`);
    const caps = sc.capabilities ?? {};
    if (!(caps.drop ?? []).includes("ALL")) out.push(`${path}.securityContext.capabilities.drop must include ALL`);
    for (const cap of caps.add ?? []) if (cap !== "NET_BIND_SERVICE") out.push(`${path}.securityContext.capabilities.add: ${cap}`);
    (c.ports ?? []).forEach((p: Obj, i: number) => {
      if (p.hostPort) out.push(`${path}.ports[${i}].hostPort`);
    });
  }
  return out;
}
