// What the adapter reads from the Kubernetes API, checked with zod and projected onto the few
// fields it uses: a Service's ports, an EndpointSlice's endpoints and ports, a Pod's labels and
// service account, an Istio object's metadata and spec. Unknown fields are dropped, so memory
// holds only these projections, and an item that does not fit is skipped (logged), not fatal.
import { z } from "zod";

const stringMap = z.record(z.string(), z.string()).nullish().transform((v) => v ?? {});

const meta = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  labels: stringMap,
  annotations: stringMap,
  creationTimestamp: z.string().nullish(),
});

export const listSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().optional(), continue: z.string().optional() }).optional(),
  items: z.array(z.unknown()).nullish().transform((v) => v ?? []),
});

export const watchEventSchema = z.object({
  type: z.enum(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]),
  object: z.unknown(),
});

/** metav1.Status, as errors and ERROR watch events carry it */
export const statusSchema = z.object({
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  details: z.object({ causes: z.array(z.object({ reason: z.string().optional() })).nullish() }).nullish(),
});
export type KubeStatus = z.infer<typeof statusSchema>;

export const bookmarkSchema = z.object({ metadata: z.object({ resourceVersion: z.string() }) });

export const resourceListSchema = z.object({
  resources: z.array(z.object({ name: z.string(), kind: z.string() })),
});
export const apiGroupSchema = z.object({
  versions: z.array(z.object({ version: z.string() })),
});

const intOrString = z.union([z.number(), z.string()]);

export const serviceSchema = z.object({
  metadata: meta,
  spec: z.object({
    type: z.string().optional(),
    clusterIP: z.string().optional(),
    externalName: z.string().optional(),
    selector: z.record(z.string(), z.string()).nullish(),
    ports: z.array(z.object({
      name: z.string().nullish(),
      port: z.number(),
      targetPort: intOrString.nullish(),
      protocol: z.string().nullish(),
      appProtocol: z.string().nullish(),
    })).nullish(),
  }).optional(),
});

export const endpointSliceSchema = z.object({
  metadata: meta,
  addressType: z.string(),
  endpoints: z.array(z.object({
    addresses: z.array(z.string()),
    conditions: z.object({ ready: z.boolean().nullish(), serving: z.boolean().nullish(), terminating: z.boolean().nullish() }).nullish(),
    targetRef: z.object({ kind: z.string().optional(), name: z.string().optional(), namespace: z.string().optional() }).nullish(),
  })).nullish(),
  ports: z.array(z.object({
    name: z.string().nullish(),
    port: z.number().nullish(),
    protocol: z.string().nullish(),
    appProtocol: z.string().nullish(),
  })).nullish(),
});

export const podSchema = z.object({
  metadata: meta,
  spec: z.object({ serviceAccountName: z.string().optional(), serviceAccount: z.string().optional() }).optional(),
});

export const istioObjectSchema = z.object({
  metadata: meta,
  spec: z.unknown(),
});

export type ServiceObject = z.infer<typeof serviceSchema>;
export type EndpointSliceObject = z.infer<typeof endpointSliceSchema>;
export type PodObject = z.infer<typeof podSchema>;
export type IstioObject = z.infer<typeof istioObjectSchema>;
