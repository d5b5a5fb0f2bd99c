// Raw API objects → the small records convert.ts works on (and istio.ts keeps), checked with the
// zod schemas. An object that does not fit is reported once and skipped.
import { endpointSliceSchema, istioObjectSchema, podSchema, serviceSchema } from "./schemas.ts";
import type { KubePod, KubeService, KubeSlice } from "./convert.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

export type Projected<T> = { key: string; value: T };

function keyOf(meta: { name: string; namespace?: string }): string {
  return `${meta.namespace ?? ""}/${meta.name}`;
}

export function projectService(raw: unknown): Projected<KubeService> | undefined {
  const parsed = serviceSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, spec } = parsed.data;
  return {
    key: keyOf(metadata),
    value: {
      name: metadata.name,
      namespace: metadata.namespace ?? "default",
      type: spec?.type ?? "ClusterIP",
      ...(spec?.externalName ? { externalName: spec.externalName } : {}),
      // which Pods back it: watched by this selector when endpoints are watched per service
      ...(spec?.selector && Object.keys(spec.selector).length ? { selector: spec.selector } : {}),
      ports: (spec?.ports ?? []).map((p) => ({
        name: p.name ?? "",
        port: p.port,
        ...(p.targetPort !== undefined && p.targetPort !== null ? { targetPort: p.targetPort } : {}),
        protocol: p.protocol ?? "TCP",
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      })),
    },
  };
}

export function projectSlice(raw: unknown): Projected<KubeSlice> | undefined {
  const parsed = endpointSliceSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, addressType, endpoints, ports } = parsed.data;
  const namespace = metadata.namespace ?? "default";
  return {
    key: keyOf(metadata),
    value: {
      name: metadata.name,
      namespace,
      service: metadata.labels["kubernetes.io/service-name"],
      addressType,
      ...(ports ? { ports: ports.filter((p) => typeof p.port === "number").map((p) => ({ name: p.name ?? "", port: p.port!, protocol: p.protocol ?? "TCP" })) } : {}),
      // Kubernetes: "consumers ... may choose to only use the first element" of addresses
      endpoints: (endpoints ?? []).filter((e) => e.addresses.length > 0).map((e) => ({
        address: e.addresses[0],
        ready: e.conditions?.ready ?? true,
        ...(e.targetRef?.kind === "Pod" && e.targetRef.name ? { pod: { namespace: e.targetRef.namespace ?? namespace, name: e.targetRef.name } } : {}),
      })),
    },
  };
}

export function projectPod(raw: unknown): Projected<KubePod> | undefined {
  const parsed = podSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, spec } = parsed.data;
  return {
    key: keyOf(metadata),
    value: { labels: metadata.labels, serviceAccount: spec?.serviceAccountName || spec?.serviceAccount || "default" },
  };
}

/** an Istio object as the config loader reads it: apiVersion, kind, the metadata it uses, spec */
export function projectIstio(raw: unknown, apiVersion: string, kind: string): Projected<Record<string, unknown>> | undefined {
  const parsed = istioObjectSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { metadata, spec } = parsed.data;
  // kubectl apply's copy of the whole object is the biggest annotation and nothing reads it
  const { [LAST_APPLIED]: _, ...annotations } = metadata.annotations;
  const meta: Record<string, unknown> = { name: metadata.name, namespace: metadata.namespace ?? "default", labels: metadata.labels, annotations };
  if (metadata.creationTimestamp) meta.creationTimestamp = metadata.creationTimestamp;
  return { key: keyOf(metadata), value: { apiVersion, kind, metadata: meta, spec: spec ?? {} } };
}
