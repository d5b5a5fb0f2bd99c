// The Kubernetes watch: one reflector each for Services, EndpointSlices, Pods and the Istio kinds
// the server serves, all feeding one state. Nothing is emitted until every reflector has listed
// once (the first snapshot is complete); after that every change emits, changes that arrive
// together folding into one snapshot. A reflector whose list fails fails the whole run, and
// registry-recover starts it over; broken watches and 410s are handled inside each reflector.
// Above endpointsOnDemandAbove Services (chosen when a run lists them), EndpointSlices and Pods
// are not watched cluster-wide: each Service in the snapshot carries use(), and only the services
// a proxy uses get their slices and pods watched (endpoint-watches.ts).
import { freezeSnapshot, type RegistrySource } from "../../runtime/model/registry.ts";
import type { RegistryResource, Service } from "../../runtime/model/types.ts";
import { systemClock, type TimerHandle } from "../../runtime/lib/clock.ts";
import { kubeClient } from "./client.ts";
import { kubeService, type KubePod, type KubeService, type KubeSlice } from "./convert.ts";
import { endpointWatches, type EndpointWatches } from "./endpoint-watches.ts";
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
  const threshold = options.endpointsOnDemandAbove ?? ENDPOINTS_ON_DEMAND_ABOVE;
  const idleMs = options.endpointIdleMs ?? 600_000;
  // services in use, by "ns/name" → last use: outlives a run, so a restarted run watches them again
  const inUse = new Map<string, number>();
  // the run in service's per-service watches (undefined: every slice and pod is watched)
  let perService: { watches: EndpointWatches; services: Map<string, KubeService> } | undefined;
  // one use() per service key for the source's life: snapshots differ, the function does not
  const uses = new Map<string, () => Promise<void> | undefined>();
  const useOf = (key: string) => {
    let use = uses.get(key);
    if (!use) {
      use = () => {
        inUse.set(key, clock.now());
        const run = perService;
        const svc = run?.services.get(key);
        return svc ? run!.watches.use(svc) : undefined;
      };
      uses.set(key, use);
    }
    return use;
  };

  return async (emit, signal) => {
    const { kinds, missing } = await discoverIstioKinds(client, signal);
    if (missing.join() !== reportedMissing) {
      reportedMissing = missing.join();
      if (missing.length) log(`registry kubernetes: the API server does not serve ${missing.join(", ")}; that Istio config is not watched`);
    }
    const services = new Map<string, KubeService>();
    const slices = new Map<string, KubeSlice>();
    const pods = new Map<string, KubePod>();
    const servicesSpec: Spec<KubeService> = { name: "services", path: `/api/v1${scope}/services`, project: projectService, table: services, dirties: "services" };
    const endpointSpecs = [
      { name: "endpointslices", path: `/apis/discovery.k8s.io/v1${scope}/endpointslices`, project: projectSlice, table: slices, dirties: "services" },
      { name: "pods", path: `/api/v1${scope}/pods`, project: projectPod, table: pods, dirties: "services" },
    ] as Spec<unknown>[];
    const specs: Spec<unknown>[] = [servicesSpec, ...kinds.map((k): Spec<unknown> => istioSpec(k, scope))] as Spec<unknown>[];
    const listed = new Set<string>();
    const dirty = { services: true, resources: true };
    let built: [string, Service][] = [];
    // per-service mode: each service's model entry, rebuilt only when its own objects changed
    const byKey = new Map<string, [string, Service]>();
    const stale = new Set<string>();
    let watches: EndpointWatches | undefined;
    // too many services in use: every slice and pod is being listed; these go once that is out
    let retiring: EndpointWatches | undefined;
    let resources: readonly RegistryResource[] = Object.freeze([]);
    let timer: TimerHandle | undefined;
    let sweeper: TimerHandle | undefined;

    const publish = () => {
      timer = undefined;
      if (signal.aborted || listed.size < specs.length || (!dirty.services && !dirty.resources)) return;
      // per service: nothing to emit while a watch has only part of its first lists in
      const rebuilt = !dirty.services || !watches || buildInUse();
      if (dirty.services && !watches) built = buildServices(services, slices, pods, options);
      if (dirty.resources) resources = buildResources(specs);
      if (!rebuilt && !dirty.resources) return;
      dirty.services = dirty.resources = false;
      emit(freezeSnapshot(built, resources));
      watches?.published();
      if (retiring) for (const key of [...retiring.keys()]) retiring.stop(key);
      retiring = undefined;
    };
    const schedule = () => {
      if (timer === undefined) timer = clock.setTimeout(publish, 0);
    };
    const changed = (spec: Spec<unknown>) => {
      dirty[spec.dirties] = true;
      schedule();
    };
    const serviceChanged = (key: string) => {
      stale.add(key);
      dirty.services = true;
      schedule();
    };

    /** rebuilds the stale entries into `built`; false when none could be (first lists still running) */
    function buildInUse(): boolean {
      let any = false;
      for (const key of stale) {
        const svc = services.get(key);
        let held = watches!.get(key);
        if (held && !held.listed && svc) {
          // stays stale until both lists are in; meanwhile a new service is there without endpoints
          if (byKey.has(key)) continue;
          held = undefined;
        } else stale.delete(key);
        any = true;
        if (!svc) {
          byKey.delete(key);
          watches!.stop(key);
          continue;
        }
        const service = kubeService(svc, held ? [...held.slices.values()] : [], { pods: held?.pods ?? NO_PODS, domainSuffix: options.domainSuffix, trustDomain: options.trustDomain });
        byKey.set(key, [service.hostname, Object.freeze({ ...service, use: useOf(key) })]);
      }
      if (any) built = [...byKey.values()];
      return any;
    }

    /** the first list of Services decides: every slice and pod, or those of the services in use */
    function chooseMode(): void {
      if (services.size <= threshold) {
        perService = undefined;
        for (const spec of endpointSpecs) launch(spec);
        specs.push(...endpointSpecs);
        return;
      }
      watches = endpointWatches({
        reflector: common, clock, firstListMs: options.firstListMs ?? 5000, signal: run.signal,
        changed: serviceChanged, failed: (error) => fail(error),
        max: threshold, tooMany: everything,
      });
      perService = { watches, services };
      for (const key of services.keys()) stale.add(key);
      // services used before this run (a restart, a relist) are watched again at once
      for (const key of inUse.keys()) {
        const svc = services.get(key);
        if (svc) watches.use(svc);
      }
      sweep();
    }
    /** more services in use than the threshold (a gateway builds every cluster): watch it all */
    function everything(): void {
      if (specs.includes(endpointSpecs[0])) return;
      log(`registry kubernetes: more than ${threshold} services in use; watching every EndpointSlice and Pod instead`);
      for (const spec of endpointSpecs) launch(spec);
      specs.push(...endpointSpecs); // nothing is published until both have listed
    }
    /** watches of services idle for idleMs stop; their endpoints leave the snapshot */
    function sweep(): void {
      if (!watches) return;
      sweeper = clock.setTimeout(sweep, Math.max(1000, idleMs / 4));
      const now = clock.now();
      for (const key of [...watches!.keys()]) {
        if (now - (inUse.get(key) ?? 0) <= idleMs) continue;
        inUse.delete(key);
        watches!.stop(key);
        serviceChanged(key);
      }
    }
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
    const common = {
      client,
      pageSize: options.pageSize ?? 500,
      watchTimeoutSeconds: () => Math.round(timeout.min + (timeout.max - timeout.min) * random()),
      watchBackoff: options.watchBackoff ?? options.backoff ?? {},
      clock, random, log,
    };
    let fail!: (error: unknown) => void;
    const failed = new Promise<never>((_, reject) => (fail = (error) => {
      reject(error); // before the abort below, which ends the wait on the run's signal
      run.abort(); // one failed list ends the run: the others stop too
    }));
    const stopped = new Promise<void>((resolve) => run.signal.addEventListener("abort", () => resolve(), { once: true }));
    function launch(spec: Spec<unknown>): void {
      const isServices = spec === servicesSpec;
      void reflect<Projected<unknown>>({
        ...common, path: spec.path, name: spec.name, parse: parse(spec), key: (p) => p.key, signal: run.signal,
        replace(items) {
          spec.table.clear();
          for (const [key, p] of items) spec.table.set(key, p.value);
          const first = !listed.has(spec.name);
          listed.add(spec.name);
          if (isServices && first) chooseMode();
          // the fallback's lists are in: the next snapshot is built from them
          if (watches && endpointSpecs.every((e) => listed.has(e.name))) {
            retiring = watches;
            watches = undefined;
            perService = undefined;
          }
          else if (isServices && watches) for (const key of new Set([...byKey.keys(), ...services.keys()])) stale.add(key);
          changed(spec);
        },
        change(type, key, p) {
          if (type === "DELETED") {
            if (!spec.table.delete(key)) return;
          } else {
            // a Pod's status churns; what the model uses (labels, service account) rarely does
            const before = spec.table.get(key);
            if (JSON.stringify(before) === JSON.stringify(p.value)) return;
            spec.table.set(key, p.value);
            // another selector means other Pods: the next use() watches them
            if (isServices && watches && JSON.stringify((before as KubeService | undefined)?.selector) !== JSON.stringify((p.value as KubeService).selector)) watches.stop(key);
          }
          if (isServices && watches) stale.add(key);
          changed(spec);
        },
      }).catch((error) => fail(error));
    }
    try {
      for (const spec of [...specs]) launch(spec);
      await Promise.race([failed, stopped]);
    } finally {
      signal.removeEventListener("abort", stop);
      run.abort();
      if (perService?.services === services) perService = undefined;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (sweeper !== undefined) clock.clearTimeout(sweeper);
    }
  };
}

/** the on-demand compile's threshold (model/compile.ts ON_DEMAND_ABOVE): below it a sidecar compiles, and so uses, everything */
export const ENDPOINTS_ON_DEMAND_ABOVE = 200;

const NO_PODS: ReadonlyMap<string, KubePod> = new Map();

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

function buildServices(services: Map<string, KubeService>, slices: Map<string, KubeSlice>, pods: Map<string, KubePod>, options: { domainSuffix?: string; trustDomain?: string }): [string, Service][] {
  const byService = new Map<string, KubeSlice[]>();
  for (const slice of slices.values()) {
    if (!slice.service) continue;
    const key = `${slice.namespace}/${slice.service}`;
    byService.set(key, [...(byService.get(key) ?? []), slice]);
  }
  return [...services.values()].map((svc) => {
    const service = kubeService(svc, byService.get(`${svc.namespace}/${svc.name}`) ?? [], { pods, domainSuffix: options.domainSuffix, trustDomain: options.trustDomain });
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
