// The Kubernetes watch: one reflector each for Services, EndpointSlices, Pods and the Istio kinds
// the server serves, all feeding one state. Nothing is emitted until every reflector has listed
// once (the first snapshot is complete); after that every change emits, changes that arrive
// together folding into one snapshot. A reflector whose list fails fails the whole run, and
// registry-recover starts it over; broken watches and 410s are handled inside each reflector.
import { freezeSnapshot, type RegistrySource } from "../../runtime/model/registry.ts";
import type { RegistryResource, Service } from "../../runtime/model/types.ts";
import { systemClock, type TimerHandle } from "../../runtime/lib/clock.ts";
import { kubeClient } from "./client.ts";
import { kubeService, type KubePod, type KubeService, type KubeSlice } from "./convert.ts";
import { discoverIstioKinds, type WatchedKind } from "./istio.ts";
import type { KubeOptions } from "./options.ts";
import { projectIstio, projectPod, projectService, projectSlice, type Projected } from "./project.ts";
import { reflect } from "./reflector.ts";
import { kubeFetch } from "./transport.ts";

interface Spec<T> {
  name: string;
  path: string;
  project(raw: unknown): Projected<T> | undefined;
  table: Map<string, T>;
  /** what changing this table makes stale */
  dirties: "services" | "resources";
  /** for Istio kinds: which one, in which version */
  istio?: WatchedKind;
}

export function kubeSource(options: KubeOptions): RegistrySource {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => {});
  const client = kubeClient(options, kubeFetch(options, options.tls, log));
  const scope = options.namespace ? `/namespaces/${encodeURIComponent(options.namespace)}` : "";
  const timeout = options.watchTimeoutSeconds ?? { min: 300, max: 600 };
  let reportedMissing = "";
  const skipped = new Set<string>();

  return async (emit, signal) => {
    const { kinds, missing } = await discoverIstioKinds(client, signal);
    if (missing.join() !== reportedMissing) {
      reportedMissing = missing.join();
      if (missing.length) log(`registry kubernetes: the API server does not serve ${missing.join(", ")}; that Istio config is not watched`);
    }
    const services = new Map<string, KubeService>();
    const slices = new Map<string, KubeSlice>();
    const pods = new Map<string, KubePod>();
    const specs: Spec<unknown>[] = [
      { name: "services", path: `/api/v1${scope}/services`, project: projectService, table: services, dirties: "services" },
      { name: "endpointslices", path: `/apis/discovery.k8s.io/v1${scope}/endpointslices`, project: projectSlice, table: slices, dirties: "services" },
      { name: "pods", path: `/api/v1${scope}/pods`, project: projectPod, table: pods, dirties: "services" },
      ...kinds.map((k): Spec<unknown> => istioSpec(k, scope)),
    ] as Spec<unknown>[];
    const listed = new Set<string>();
    const dirty = { services: true, resources: true };
    let built: [string, Service][] = [];
    let resources: readonly RegistryResource[] = Object.freeze([]);
    let timer: TimerHandle | undefined;

    const publish = () => {
      timer = undefined;
      if (signal.aborted || listed.size < specs.length || (!dirty.services && !dirty.resources)) return;
      if (dirty.services) built = buildServices(services, slices, pods, options.domainSuffix);
      if (dirty.resources) resources = buildResources(specs);
      dirty.services = dirty.resources = false;
      emit(freezeSnapshot(built, resources));
    };
    const changed = (spec: Spec<unknown>) => {
      dirty[spec.dirties] = true;
      if (timer === undefined) timer = clock.setTimeout(publish, 0);
    };
    const parse = (spec: Spec<unknown>) => (raw: unknown) => {
      const projected = spec.project(raw);
      if (!projected) {
        const name = (raw as { metadata?: { namespace?: string; name?: string } })?.metadata;
        const id = `${spec.name} ${name?.namespace ?? ""}/${name?.name ?? "?"}`;
        if (!skipped.has(id)) log(`registry kubernetes: skipping ${id}: it does not have the expected shape`);
        skipped.add(id);
      }
      return projected;
    };

    const run = new AbortController();
    const stop = () => run.abort();
    signal.addEventListener("abort", stop, { once: true });
    try {
      await Promise.all(specs.map((spec) =>
        reflect<Projected<unknown>>({
          client, path: spec.path, name: spec.name, parse: parse(spec), key: (p) => p.key,
          replace(items) {
            spec.table.clear();
            for (const [key, p] of items) spec.table.set(key, p.value);
            listed.add(spec.name);
            changed(spec);
          },
          change(type, key, p) {
            if (type === "DELETED") {
              if (!spec.table.delete(key)) return;
            } else {
              // a Pod's status churns; what the model uses (labels, service account) rarely does
              if (JSON.stringify(spec.table.get(key)) === JSON.stringify(p.value)) return;
              spec.table.set(key, p.value);
            }
            changed(spec);
          },
          pageSize: options.pageSize ?? 500,
          watchTimeoutSeconds: () => Math.round(timeout.min + (timeout.max - timeout.min) * random()),
          watchBackoff: options.watchBackoff ?? options.backoff ?? {},
          clock, random, signal: run.signal, log,
        }).catch((error) => {
          run.abort(); // one failed list ends the run: the others stop too
          throw error;
        })
      ));
    } finally {
      signal.removeEventListener("abort", stop);
      run.abort();
      if (timer !== undefined) clock.clearTimeout(timer);
    }
  };
}

function istioSpec(k: WatchedKind, scope: string): Spec<Record<string, unknown>> {
  const apiVersion = `${k.group}/${k.version}`;
  return {
    name: `${k.resource}.${k.group}`,
    path: `/apis/${apiVersion}${scope}/${k.resource}`,
    project: (raw) => projectIstio(raw, apiVersion, k.kind),
    table: new Map(),
    dirties: "resources",
    istio: k,
  };
}

function buildServices(services: Map<string, KubeService>, slices: Map<string, KubeSlice>, pods: Map<string, KubePod>, domainSuffix: string | undefined): [string, Service][] {
  const byService = new Map<string, KubeSlice[]>();
  for (const slice of slices.values()) {
    if (!slice.service) continue;
    const key = `${slice.namespace}/${slice.service}`;
    byService.set(key, [...(byService.get(key) ?? []), slice]);
  }
  return [...services.values()].map((svc) => {
    const service = kubeService(svc, byService.get(`${svc.namespace}/${svc.name}`) ?? [], { pods, domainSuffix });
    return [service.hostname, service];
  });
}

function buildResources(specs: Spec<unknown>[]): readonly RegistryResource[] {
  const out: RegistryResource[] = [];
  specs.forEach((spec) => {
    const k = spec.istio;
    if (!k) return;
    for (const [key, object] of spec.table) {
      const [ns, name] = key.split("/");
      out.push(Object.freeze({ ref: `kubernetes:/apis/${k.group}/${k.version}/namespaces/${ns}/${k.resource}/${name}`, object }));
    }
  });
  out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return Object.freeze(out);
}
