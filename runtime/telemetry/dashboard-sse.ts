// Server-sent events for the dashboard: one `data:` line of JSON per snapshot, as a web-standard
// ReadableStream. A client that stops reading loses frames instead of piling them up, and the
// subscription ends when the client goes away (stream cancelled or request aborted).
import type { DashboardFeed } from "./dashboard-feed.ts";

/** frames queued for a slow client before further ones are dropped */
const MAX_QUEUED = 4;

export function dashboardEvents(feed: DashboardFeed, signal?: AbortSignal): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // the browser reconnects this long after a dropped connection
      controller.enqueue(encoder.encode("retry: 2000\n\n"));
      const unsubscribe = feed.subscribe((snapshot) => {
        if ((controller.desiredSize ?? 0) <= -MAX_QUEUED) return;
        try {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(snapshot)}\n\n`));
        } catch {
          stop();
        }
      });
      stop = () => {
        stop = () => {};
        unsubscribe();
      };
      signal?.addEventListener("abort", () => {
        stop();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      }, { once: true });
    },
    cancel() {
      stop();
    },
  }, { highWaterMark: 1 });
  return new Response(stream, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
