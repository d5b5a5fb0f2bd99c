// client-go's reflector for one resource: list it (in pages of limit/continue), then watch from
// the list's resourceVersion with bookmarks, keeping the resourceVersion of the last event or
// bookmark. A watch the server ends is resumed from there; a broken one (server gone, 5xx) is
// resumed after a jittered backoff, the state kept meanwhile. 410 Expired (history compacted,
// an API server restarted with a fresh watch cache) or "too large resource version" means that
// resourceVersion is useless: list again, which replaces the whole state. A list that fails
// fails the reflector (and with it the run; registry-recover starts over from lists).
import { backoffDelay, type BackoffOptions } from "../../runtime/model/registry-recover.ts";
import type { Clock, TimerHandle } from "../../runtime/lib/clock.ts";
import { KubeApiError, needsRelist, statusError, type KubeClient } from "./client.ts";
import { bookmarkSchema, listSchema, statusSchema } from "./schemas.ts";

export interface ReflectorOptions<T> {
  client: KubeClient;
  /** the collection's path: "/api/v1/services", "/apis/networking.istio.io/v1/namespaces/ns/virtualservices" */
  path: string;
  /** a labelSelector ("kubernetes.io/service-name=reviews") for the list and the watch */
  labelSelector?: string;
  /** a fieldSelector ("metadata.name=gw-cert": one Secret, never the namespace's others) */
  fieldSelector?: string;
  /** for logs: "services" */
  name: string;
  /** the projection of one item; undefined skips it (it did not fit the schema) */
  parse(raw: unknown): T | undefined;
  key(item: T): string;
  /** after every list: the whole state */
  replace(items: Map<string, T>): void;
  /** after every watch event that changes something */
  change(type: "ADDED" | "MODIFIED" | "DELETED", key: string, item: T): void;
  pageSize: number;
  /** seconds the server is asked to keep each watch open */
  watchTimeoutSeconds(): number;
  watchBackoff: BackoffOptions;
  clock: Clock;
  random: () => number;
  signal: AbortSignal;
  log: (message: string) => void;
}

/** resolves when the signal aborts; rejects when a list fails or the server refuses the watch */
export async function reflect<T>(o: ReflectorOptions<T>): Promise<void> {
  while (!o.signal.aborted) {
    const version = await list(o);
    if (o.signal.aborted) return;
    const outcome = await watchFrom(o, version);
    if (outcome === "relist") continue;
    return;
  }
}

async function list<T>(o: ReflectorOptions<T>): Promise<string> {
  const items = new Map<string, T>();
  let token: string | undefined;
  let version = "";
  let restarted = false;
  for (;;) {
    const query: Record<string, string> = { limit: String(o.pageSize) };
    if (o.labelSelector) query.labelSelector = o.labelSelector;
    if (o.fieldSelector) query.fieldSelector = o.fieldSelector;
    if (token) query.continue = token;
    let page;
    try {
      page = listSchema.parse(await o.client.get(o.path, query, o.signal));
    } catch (error) {
      // the continue token outlived the history it points into: one fresh start, as client-go does
      if (token && needsRelist(error) && !restarted) {
        restarted = true;
        token = undefined;
        items.clear();
        continue;
      }
      if (error instanceof KubeApiError) throw new KubeApiError(error.status, error.reason, `list ${o.name}: ${error.message}`, error.causes);
      throw new Error(`list ${o.name}: the answer is not a list (${(error as Error).message})`);
    }
    for (const raw of page.items) {
      const item = o.parse(raw);
      if (item !== undefined) items.set(o.key(item), item);
    }
    token = page.metadata?.continue || undefined;
    version = page.metadata?.resourceVersion ?? version;
    if (!token || o.signal.aborted) break;
  }
  o.replace(items);
  return version;
}

/** watches from version until the signal aborts ("stopped") or the version is unusable ("relist") */
async function watchFrom<T>(o: ReflectorOptions<T>, version: string): Promise<"relist" | "stopped"> {
  let failures = 0;
  while (!o.signal.aborted) {
    const timeout = o.watchTimeoutSeconds();
    const query: Record<string, string> = { resourceVersion: version, allowWatchBookmarks: "true", timeoutSeconds: String(timeout) };
    if (o.labelSelector) query.labelSelector = o.labelSelector;
    if (o.fieldSelector) query.fieldSelector = o.fieldSelector;
    const started = o.clock.now();
    let events = 0;
    try {
      // a server that goes quiet beyond its own timeout plus a margin is treated as gone
      for await (const event of o.client.watch(o.path, query, o.signal, (timeout + 30) * 1000)) {
        events++;
        failures = 0;
        if (event.type === "ERROR") {
          const status = statusSchema.safeParse(event.object);
          throw statusError(status.success ? status.data : {}, 500, `watch ${o.name}`);
        }
        if (event.type === "BOOKMARK") {
          const mark = bookmarkSchema.safeParse(event.object);
          if (mark.success) version = mark.data.metadata.resourceVersion;
          continue;
        }
        const item = o.parse(event.object);
        if (item === undefined) continue;
        version = (event.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? version;
        o.change(event.type, o.key(item), item);
      }
      if (o.signal.aborted) return "stopped";
      // the server ended the watch (its timeout): resume at once, unless it ends them at once
      if (events > 0 || o.clock.now() - started > 1000) continue;
      await retryAfter(o, failures++, version, "the watch ended at once");
    } catch (error) {
      if (o.signal.aborted) return "stopped";
      if (needsRelist(error)) {
        o.log(`registry kubernetes: ${o.name} at resourceVersion ${version} is gone from the API server's history (${(error as Error).message}); listing again`);
        return "relist";
      }
      if (error instanceof KubeApiError && [401, 403, 404].includes(error.status)) throw error;
      await retryAfter(o, failures++, version, (error as Error).message);
    }
  }
  return "stopped";
}

async function retryAfter<T>(o: ReflectorOptions<T>, attempt: number, version: string, why: string): Promise<void> {
  const delay = backoffDelay(attempt, o.watchBackoff, o.random);
  o.log(`registry kubernetes: watch ${o.name}: ${why}; keeping the last state, retrying from resourceVersion ${version} in ${Math.round(delay)} ms`);
  await pause(o.clock, delay, o.signal);
}

function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: TimerHandle | undefined = undefined;
    const onAbort = () => {
      if (timer !== undefined) clock.clearTimeout(timer);
      resolve();
    };
    if (signal.aborted) return resolve();
    timer = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
