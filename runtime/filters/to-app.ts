// The last step of the inbound chain: the request, as the filters left it (normalized target,
// XFCC, claim headers), goes to the local app; the app's answer comes back without hop-by-hop
// headers. A failure is answered as Envoy would, through the one classifier and local reply.
// A gRPC call that arrived as HTTP/2 goes to the app over h2c, trailers both ways (gRPC has no
// HTTP/1.1 form); every other request over HTTP/1.1, translated from HTTP/2 when it came so (curl
// offers h2 by ALPN to any HTTP app). The sidecar knows its app only as --app HOST:PORT, not the
// port's declared protocol, so a non-gRPC app that speaks h2c only is not reachable this way.
// The h2c pool is made on first use. The record names the app as Envoy's inbound side does (upstream
// host, cluster inbound|<port>||, route default) for the access log and spans, and when the request
// went to the app, for the upstream service time (one clock read).
import { ProxyError } from "../exchange/errors.ts";
import { downstreamResponse } from "../exchange/headers.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { PipelineDeps } from "../router/pipeline-deps.ts";
import { classifyFailure } from "../router/classify.ts";
import type { Exchange, Terminal } from "./chain.ts";
import type { HttpResponse } from "../exchange/types.ts";
import type { ConnectionPool } from "../upstream/pool-types.ts";
import { createHttp2Pool } from "../upstream/http2/index.ts";
import { DEFAULT_POOL_LIMITS } from "../upstream/http1/index.ts";
import { platform } from "../platform/index.ts";
import { isGrpc } from "../exchange/http2/fields.ts";
import type { AppUpstream } from "../exchange/record.ts";

/** makePool: the app's h2c pool (tests inject one); now: the observer's clock (both Date.now unless a test gives its own) */
export function toAppTerminal(app: string, deps: PipelineDeps, makePool: () => ConnectionPool = appH2Pool, now: () => number = Date.now): Terminal {
  let h2: ConnectionPool | undefined;
  const named: AppUpstream = Object.freeze({ address: app, cluster: `inbound|${app.slice(app.lastIndexOf(":") + 1)}||`, routeName: "default" });
  async function send(exchange: Exchange): Promise<HttpResponse> {
    const { facts, record, request } = exchange;
    record.app = named;
    const target = facts.query ? `${facts.path}?${facts.query}` : facts.path;
    try {
      // the app's address and an origin-form target given apart too: the client then need not parse
      // them back out of the url (anything else, "*" of OPTIONS, is left to the url as before)
      const upstream = { url: `http://${app}${target}`, address: app, target: target.charCodeAt(0) === 47 ? target : undefined, method: facts.method, headers: facts.headers, body: request.body };
      const sent = now();
      const response =
        request.protocol === "h2" && isGrpc(request.headers) ? await (h2 ??= makePool()).send(app, { ...upstream, trailers: request.trailers }) : await deps.upstream.send(upstream);
      record.details = "via_upstream";
      record.upstreamStartMs = sent;
      return downstreamResponse(response);
    } catch (error) {
      const failure = classifyFailure(error);
      return localReply(new ProxyError(failure.code, (error as Error).message), record);
    }
  }
  return send;
}

function appH2Pool(): ConnectionPool {
  return createHttp2Pool(DEFAULT_POOL_LIMITS, { connect: platform.connectHttp2 });
}
