// Endpoints per service in use (issue 11 item 4): in a cluster too large for every sidecar to hold
// every EndpointSlice and Pod, a service's slices are watched by the label selector
// kubernetes.io/service-name=<name> from the first time this proxy uses the service, and its Pods
// (labels for subsets, the service account for the identity) by the Service's own selector. A
// watch stops when its service has been idle for idleMs or is deleted. The API server's watch
// cache does the fan-out: a sidecar calling 5 services holds 5 services' slices and pods. Watches
// asked for together (a compile builds many clusters at once) start together after the current
// task, unless they would make more than `max`: then tooMany() is called instead (the source
// falls back to watching every slice and pod, cheaper than two watches per service).
import type { Clock, TimerHandle } from "../../runtime/lib/clock.ts";
import type { KubePod, KubeService, KubeSlice } from "./convert.ts";
import { projectPod, projectSlice, type Projected } from "./project.ts";
import { reflect, type ReflectorOptions } from "./reflector.ts";

/** one service's watches and what they hold */
export interface ServiceEndpoints {
  readonly slices: Map<string, KubeSlice>;
  readonly pods: Map<string, KubePod>;
  /** both first lists are in */
  listed: boolean;
}

interface Watch extends ServiceEndpoints {
  lists: number;
  /** settles once a snapshot with the first lists is out, or after the bound */
  first: Promise<void>;
  settle(): void;
  settled: boolean;
  stop: AbortController;
}

type Common = Omit<ReflectorOptions<Projected<unknown>>, "path" | "name" | "parse" | "key" | "replace" | "change" | "labelSelector" | "signal">;

export interface EndpointWatchOptions {
  reflector: Common;
  clock: Clock;
  /** how long a first request waits for a service's first lists before it goes on without them */
  firstListMs: number;
  /** the run's signal: every watch stops with it */
  signal: AbortSignal;
  /** a watch's table changed: its service's snapshot entry is stale (key: "ns/name") */
  changed(key: string): void;
  /** a watch failed to list: the run fails (registry-recover starts it over) */
  failed(error: unknown): void;
  /** the most services watched one by one */
  max: number;
  tooMany(): void;
}

export interface EndpointWatches {
  /** starts the service's watches when needed; the promise while its first lists run */
  use(service: KubeService): Promise<void> | undefined;
  get(key: string): ServiceEndpoints | undefined;
  /** a snapshot is out: requests waiting for what it holds go on */
  published(): void;
  stop(key: string): void;
  keys(): IterableIterator<string>;
  readonly size: number;
}

const selectorText = (labels: Readonly<Record<string, string>>) =>
  Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(",");

export function endpointWatches(o: EndpointWatchOptions): EndpointWatches {
  const watches = new Map<string, Watch>();
  let waiting: (() => void)[] = [];
  let flush: TimerHandle | undefined;
  o.signal.addEventListener("abort", () => flush !== undefined && o.clock.clearTimeout(flush), { once: true });
  const launchAll = () => {
    flush = undefined;
    const launch = waiting;
    waiting = [];
    if (watches.size > o.max) o.tooMany();
    else for (const go of launch) go();
  };

  function start(svc: KubeService): Watch {
    const key = `${svc.namespace}/${svc.name}`;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    o.signal.addEventListener("abort", onAbort, { once: true });
    stop.signal.addEventListener("abort", () => o.signal.removeEventListener("abort", onAbort), { once: true });
    let settle!: () => void;
    const first = new Promise<void>((resolve) => (settle = resolve));
    const watch: Watch = {
      slices: new Map(), pods: new Map(), listed: false, lists: 0, first, settled: false, stop,
      settle() {
        if (watch.settled) return;
        watch.settled = true;
        o.clock.clearTimeout(bound);
        settle();
      },
    };
    // the bound: a slow API server delays a first request by at most this, never fails it here
    const bound: TimerHandle = o.clock.setTimeout(() => watch.settle(), o.firstListMs);
    const ns = encodeURIComponent(svc.namespace);
    const one = <T>(name: string, path: string, labelSelector: string, project: (raw: unknown) => Projected<T> | undefined, table: Map<string, T>) =>
      reflect<Projected<T>>({
        ...o.reflector, path, name: `${name} of ${key}`, labelSelector, signal: stop.signal,
        parse: project, key: (p) => p.key,
        replace(items) {
          table.clear();
          for (const [k, p] of items) table.set(k, p.value);
          if (!watch.listed && ++watch.lists === (svc.selector ? 2 : 1)) watch.listed = true;
          o.changed(key);
        },
        change(type, k, p) {
          if (type === "DELETED") {
            if (!table.delete(k)) return;
          } else {
            // a Pod's status churns; what the model uses (labels, service account) rarely does
            if (JSON.stringify(table.get(k)) === JSON.stringify(p.value)) return;
            table.set(k, p.value);
          }
          o.changed(key);
        },
      }).catch((error) => {
        if (!stop.signal.aborted) o.failed(error);
      });
    waiting.push(() => {
      if (stop.signal.aborted) return;
      void one("endpointslices", `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, `kubernetes.io/service-name=${svc.name}`, projectSlice, watch.slices);
      // without a selector nothing says which Pods back it: endpoints then carry no labels or identity
      if (svc.selector) void one("pods", `/api/v1/namespaces/${ns}/pods`, selectorText(svc.selector), projectPod, watch.pods);
    });
    if (flush === undefined) flush = o.clock.setTimeout(launchAll, 0);
    watches.set(key, watch);
    return watch;
  }

  return {
    use(svc) {
      const watch = watches.get(`${svc.namespace}/${svc.name}`) ?? start(svc);
      return watch.settled ? undefined : watch.first;
    },
    get: (key) => watches.get(key),
    published() {
      for (const watch of watches.values()) if (watch.listed) watch.settle();
    },
    stop(key) {
      const watch = watches.get(key);
      if (!watch) return;
      watches.delete(key);
      watch.stop.abort();
      watch.settle();
    },
    keys: () => watches.keys(),
    get size() {
      return watches.size;
    },
  };
}
