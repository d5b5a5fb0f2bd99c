// The test API server's storage, shaped like etcd under a watch cache: one global revision that
// every write increments (an object's resourceVersion is the revision of its last write), a
// bounded history of changes that watches replay from and that older states are rebuilt from,
// and a compaction point below which history is gone (clients asking for it get 410 Expired).
// It outlives a server: a new server on the same store is an API server restart.
import { typeId, type ResourceType } from "./resources.ts";
import { expired } from "./status.ts";

export type KubeObject = Record<string, unknown> & { metadata: Meta };
export interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [key: string]: unknown;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  revision: number;
  type: EventType;
  /** typeId of the resource type */
  resource: string;
  key: string;
  /** the object after the change (for DELETED: as it was when deleted) */
  object: KubeObject;
  /** the object before the change (MODIFIED, DELETED) */
  previous?: KubeObject;
}

export interface KubeStoreOptions {
  /** the revision of the empty store: a store that starts at 1000 has "compacted" everything older */
  firstRevision?: number;
  /** how many changes the history keeps; older ones are compacted away (default 1000) */
  historyLimit?: number;
}

export const keyOf = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

export class KubeStore {
  private current: number;
  private compactedAt: number;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly historyLimit: number;

  constructor(options: KubeStoreOptions = {}) {
    this.current = Math.max(1, options.firstRevision ?? 1);
    this.compactedAt = this.current;
    this.historyLimit = options.historyLimit ?? 1000;
  }

  /** the latest revision */
  revision(): number {
    return this.current;
  }

  /** history below this revision is gone */
  compacted(): number {
    return this.compactedAt;
  }

  private table(t: ResourceType): Map<string, KubeObject> {
    let table = this.data.get(typeId(t));
    if (!table) this.data.set(typeId(t), (table = new Map()));
    return table;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.table(t).get(keyOf(t.namespaced ? namespace : undefined, name));
    return found && structuredClone(found);
  }

  /**
   * every object of the type at `revision` (the latest by default) that `keep` accepts, ordered by
   * key as etcd lists them (copies only of those: a selective list of a large table stays cheap)
   */
  list(t: ResourceType, revision = this.current, keep: (object: KubeObject) => boolean = () => true): { key: string; object: KubeObject }[] {
    if (revision < this.compactedAt) throw expired(`too old resource version: ${revision} (${this.compactedAt})`);
    const state = new Map(this.table(t));
    const id = typeId(t);
    for (let i = this.history.length - 1; i >= 0 && this.history[i].revision > revision; i--) {
      const e = this.history[i];
      if (e.resource !== id) continue;
      if (e.type === "ADDED") state.delete(e.key);
      else state.set(e.key, e.previous!);
    }
    return [...state].filter(([, object]) => keep(object)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, object]) => ({ key, object: structuredClone(object) }));
  }

  /** the changes to the type after `revision`, oldest first; 410 Expired when they were compacted */
  since(t: ResourceType, revision: number): StoreEvent[] {
    if (revision < this.compactedAt) throw expired(`too old resource version: ${revision} (${this.compactedAt})`);
    const id = typeId(t);
    return this.history.filter((e) => e.revision > revision && e.resource === id).map((e) => structuredClone(e));
  }

  /**
   * Writes (or, with `object` undefined, deletes) one object at the next revision, sets its
   * resourceVersion, records the change and tells every listener. Returns the stored copy.
   */
  write(t: ResourceType, object: KubeObject | undefined, key: string): StoreEvent {
    const table = this.table(t);
    const previous = table.get(key);
    if (!object && !previous) throw new Error(`kube store: nothing to delete at ${key}`);
    const revision = ++this.current;
    let stored: KubeObject;
    let type: EventType;
    if (object) {
      stored = structuredClone(object);
      stored.metadata.resourceVersion = String(revision);
      table.set(key, stored);
      type = previous ? "MODIFIED" : "ADDED";
    } else {
      stored = structuredClone(previous!);
      stored.metadata.resourceVersion = String(revision);
      table.delete(key);
      type = "DELETED";
    }
    const event: StoreEvent = { revision, type, resource: typeId(t), key, object: stored, previous };
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.compact(this.history[this.history.length - this.historyLimit].revision - 1);
    for (const listener of [...this.listeners]) listener(structuredClone(event));
    return structuredClone(event);
  }

  /** drops the history up to and including `revision` (default: all of it), as etcd compaction does */
  compact(revision = this.current): void {
    const upTo = Math.min(revision, this.current);
    while (this.history.length && this.history[0].revision <= upTo) this.history.shift();
    this.compactedAt = Math.max(this.compactedAt, upTo);
  }

  /** calls listener with every later change; returns the unsubscribe function */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
