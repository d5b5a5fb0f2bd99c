// The one discovery contract. Static files, Consul (and Kubernetes later) each become a Registry
// that hands the compiler whole, frozen snapshots: the compiler rebuilds the route table per
// change, so a snapshot is simpler for it than linkerd's Reset/Add/Remove stream, and a snapshot
// is what that stream's consumer rebuilds anyway.
import type { RegistryResource, RegistrySnapshot, Service } from "./types.ts";

export interface Registry {
  /** "static", "consul", "static+consul": for logs and /config_dump */
  readonly name: string;
  /**
   * Begins watching. onUpdate receives every complete snapshot (never a partial one), the first
   * once the registry has synced; it may be called before start returns. A failing source emits
   * nothing, so the consumer keeps serving the last snapshot it got.
   */
  start(onUpdate: (snapshot: RegistrySnapshot) => void): void;
  /** stops watching; onUpdate is not called afterwards */
  stop(): void;
  /** the first complete sync happened (stays true through later failures) */
  synced(): boolean;
}

/**
 * What an adapter implements: a watch loop that emits complete snapshots until it fails (rejects,
 * or resolves on its own) or `signal` aborts. recoverRegistry() restarts it; the adapter holds no
 * retry logic of its own, as linkerd's resolvers hold none.
 */
export type RegistrySource = (emit: (snapshot: RegistrySnapshot) => void, signal: AbortSignal) => Promise<void>;

export interface StaticRegistry extends Registry {
  /** replaces the snapshot (config-watch calls this with each accepted config) */
  publish(snapshot: RegistrySnapshot): void;
}

/**
 * Services known from files: ServiceEntry/WorkloadEntry through snapshotFromConfig(). The files
 * are loaded and validated by config-watch together with the rest of the config, so this holds
 * the last accepted snapshot and passes each new one on; a rejected file never reaches it.
 */
export function staticRegistry(initial?: RegistrySnapshot, name = "static"): StaticRegistry {
  let current = initial;
  let listener: ((snapshot: RegistrySnapshot) => void) | undefined;
  return {
    name,
    start(onUpdate) {
      listener = onUpdate;
      if (current) onUpdate(current);
    },
    stop() {
      listener = undefined;
    },
    synced: () => current !== undefined,
    publish(snapshot) {
      current = snapshot;
      listener?.(snapshot);
    },
  };
}

/**
 * A frozen snapshot of the given services (a Map whose mutators throw), keyed by host name. The
 * registries freeze each Service, port and endpoint object but not the lists (ports, endpoints):
 * JavaScriptCore keeps a frozen array in a sparse map, ~2 × its memory (config/assemble.ts
 * deepFreeze); the lists are `readonly` by type.
 */
export function freezeSnapshot(services: Iterable<readonly [string, Service]>, resources?: readonly RegistryResource[]): RegistrySnapshot {
  return Object.freeze(resources ? { services: new FrozenMap(services), resources } : { services: new FrozenMap(services) });
}

class FrozenMap<K, V> extends Map<K, V> {
  constructor(source: Iterable<readonly [K, V]>) {
    super();
    for (const [k, v] of source) super.set(k, v);
    Object.freeze(this);
  }
  override set(_key: K, _value: V): this {
    throw new TypeError("registry snapshot is immutable");
  }
  override delete(_key: K): boolean {
    throw new TypeError("registry snapshot is immutable");
  }
  override clear(): void {
    throw new TypeError("registry snapshot is immutable");
  }
}
