// A GOAWAY from the peer ends a node:http2 session: the runtime's own handler emits "goaway" and
// then calls session.close() (NO_ERROR) or session.destroy() (any other code). Deno 2.9 runs that
// handler inside nghttp2's frame callback, before nghttp2 has finished with the GOAWAY frame, and
// closing the session there leaves nghttp2 walking streams that are gone: the process aborts
// (nghttp2_session.c find_stream_on_goaway_func, "stream->closed_next == NULL") or segfaults
// (denoland/deno#36788, open). Seen here as a Deno gateway dying under gRPC clients that close
// their connections; a bare Deno node:http2 server with Node clients that close after one
// request dies within a few thousand connections (test/platform/http2-goaway.test.ts).
//
// Our "goaway" listener runs just before that call, so it can put the close off until the frame
// is done: close and destroy are shadowed on the session for this turn of the event loop and run
// on the next. Nothing is lost by the wait: the session takes no new streams once it has the
// GOAWAY (the pool treats it as gone at once), and streams in flight finish either way. On Bun the
// same code only moves the close by one turn.
import type * as NodeHttp2 from "node:http2";

type Closing = Pick<NodeHttp2.Http2Session, "close" | "destroy" | "on">;

export function closeAfterGoawayFrame(session: Closing): void {
  const own = session as { close: Closing["close"]; destroy: Closing["destroy"] };
  session.on("goaway", () => {
    if (Object.hasOwn(own, "close")) return; // already put off this turn
    const proto = Object.getPrototypeOf(session) as Closing;
    own.close = (...args: Parameters<Closing["close"]>) => void setImmediate(() => proto.close.apply(session, args));
    own.destroy = (...args: Parameters<Closing["destroy"]>) => void setImmediate(() => proto.destroy.apply(session, args));
    // registered before the runtime's own close is put off, so it runs first: the deferred call
    // then finds the session's own methods again
    setImmediate(() => {
      delete (own as Partial<typeof own>).close;
      delete (own as Partial<typeof own>).destroy;
    });
  });
}
