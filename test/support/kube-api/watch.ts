// GET ...?watch=true: a chunked stream of JSON lines {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR,
// "object": ...}, with the real server's resourceVersion rules: no resourceVersion or "0" starts
// with an ADDED event per existing object; N replays every change after N (an N older than the
// kept history yields one ERROR event, 410 Expired, as the watch cache answers); a selector
// turns changes into ADDED/DELETED when an object starts or stops matching; bookmarks come every
// interval when allowWatchBookmarks is set; timeoutSeconds ends the stream cleanly.
import type { ResourceType } from "./resources.ts";
import { apiVersionOf } from "./resources.ts";
import type { Matcher } from "./selectors.ts";
import { ApiError, tooLarge } from "./status.ts";
import type { KubeObject, KubeStore, StoreEvent } from "./store.ts";
import type { Obj } from "./objects.ts";

type WatchType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchRequest {
  t: ResourceType;
  version: string;
  namespace?: string;
  matches: Matcher;
  resourceVersion: string | null;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutMs: number;
  bookmarkIntervalMs: number;
  /** how an object goes on the wire (plain, or a one-row Table for kubectl get -w) */
  encode: (object: KubeObject) => Obj;
}

/** open watches, so stopping the server can cut them as a dying process would */
export type WatchRegistry = Set<(error: boolean) => void>;

const encoder = new TextEncoder();

export async function watchResponse(store: KubeStore, w: WatchRequest, open: WatchRegistry, waitForRevision: (rv: number) => Promise<boolean>): Promise<Response> {
  const inScope = (o: KubeObject) => (!w.namespace || o.metadata.namespace === w.namespace) && w.matches(o);
  const first: [WatchType, Obj][] = [];
  let from: number | undefined;
  const asked = w.resourceVersion ?? "";
  if (asked === "" || asked === "0" || w.sendInitialEvents) {
    if (asked !== "" && asked !== "0" && !(await waitForRevision(Number(asked)))) throw tooLarge(Number(asked), store.revision());
    for (const { object } of store.list(w.t)) if (inScope(object)) first.push(["ADDED", w.encode(object)]);
    if (w.sendInitialEvents) first.push(["BOOKMARK", bookmark(w, store.revision(), true)]);
    from = store.revision();
  } else {
    const rv = Number(asked);
    if (!Number.isInteger(rv) || rv < 0) throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "BadRequest", code: 400, message: `invalid resource version: strconv.ParseUint: parsing "${asked}": invalid syntax` });
    if (!(await waitForRevision(rv))) throw tooLarge(rv, store.revision());
    try {
      for (const e of store.since(w.t, rv)) {
        const out = transition(e, inScope);
        if (out) first.push([out, w.encode(e.object)]);
      }
      from = rv;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      first.push(["ERROR", error.status as unknown as Obj]);
    }
  }
  const failed = first.some(([type]) => type === "ERROR");
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let unsubscribe = () => {};
  const timers: ReturnType<typeof setTimeout>[] = [];
  let closed = false;
  const send = (type: WatchType, object: Obj) => {
    if (!closed) controller.enqueue(encoder.encode(JSON.stringify({ type, object }) + "\n"));
  };
  const close = (error: boolean) => {
    if (closed) return;
    closed = true;
    unsubscribe();
    timers.forEach(clearTimeout);
    open.delete(close);
    try {
      if (error) controller.error(new Error("the API server went away"));
      else controller.close();
    } catch {
      // the client left first
    }
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const [type, object] of first) send(type, object);
      if (failed) return close(false);
      open.add(close);
      unsubscribe = store.subscribe((e) => {
        if (from !== undefined && e.revision <= from) return;
        if (e.resource !== `${w.t.group}/${w.t.resource}`) return;
        const out = transition(e, inScope);
        if (out) send(out, w.encode(e.object));
      });
      timers.push(setTimeout(() => close(false), w.timeoutMs));
      if (w.allowBookmarks) {
        const tick = () => {
          send("BOOKMARK", bookmark(w, store.revision(), false));
          timers.push(setTimeout(tick, w.bookmarkIntervalMs));
        };
        timers.push(setTimeout(tick, w.bookmarkIntervalMs));
      }
    },
    cancel() {
      close(false);
    },
  });
  return new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-cache, private" } });
}

/** what a watcher with this scope sees of one change, if anything */
function transition(e: StoreEvent, inScope: (o: KubeObject) => boolean): WatchType | undefined {
  const before = e.previous !== undefined && inScope(e.previous);
  if (e.type === "DELETED") return before ? "DELETED" : undefined;
  const after = inScope(e.object);
  if (after) return before ? "MODIFIED" : "ADDED";
  return before ? "DELETED" : undefined;
}

function bookmark(w: WatchRequest, revision: number, initialEventsEnd: boolean): Obj {
  const metadata: Obj = { resourceVersion: String(revision), creationTimestamp: null };
  if (initialEventsEnd) metadata.annotations = { "k8s.io/initial-events-end": "true" };
  return { kind: w.t.kind, apiVersion: apiVersionOf(w.t, w.version), metadata };
}
