// The sidecar's inbound listener: everything it receives goes to the local app, with the same
// header hygiene as the outbound side, and X-Forwarded-Client-Cert describing a verified mTLS peer
// (any XFCC the client sent is dropped).
import { UpstreamError, type ConnInfo, type FetchHandler } from "../platform/index.ts";
import type { Observer } from "./observe.ts";
import { ProxyError } from "./errors.ts";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import { localReply } from "./local-reply.ts";
import type { PipelineDeps } from "./pipeline-deps.ts";
import { setXfcc, XFCC } from "./xfcc.ts";
import { checkInbound } from "./inbound-security.ts";
import type { AuthzDecision, WorkloadSecurity } from "../security/policy/index.ts";

export interface InboundOptions {
  /** this workload's SPIFFE ID (XFCC's By), when it has one */
  localId?: () => string;
  /** the policies in force now (recompiled on every config swap) */
  security?: () => WorkloadSecurity;
  /** the app's port: destination.port for authorization */
  appPort?: number;
  /** each AuthorizationPolicy decision (metrics) */
  onDecision?: (decision: AuthzDecision) => void;
}

export function createInboundHandler(app: string, deps: PipelineDeps, observer?: Observer, options: InboundOptions = {}): FetchHandler {
  return async function inbound(request, conn) {
    const start = Date.now();
    const response = await forwardToApp(request, conn);
    if (observer) {
      const url = request.url;
      const at = url.indexOf("/", url.indexOf("//") + 2);
      observer.observe(request, at === -1 ? "/" : url.slice(at), conn, { requestId: request.headers.get("x-request-id") ?? undefined }, response, start);
    }
    return response;
  };

  async function forwardToApp(request: Request, conn: ConnInfo): Promise<Response> {
    const url = request.url;
    // the request target after scheme://authority, kept byte for byte
    const start = url.indexOf("/", url.indexOf("//") + 2);
    let target = conn.target ?? (start === -1 ? "/" : url.slice(start));
    let headers = upstreamRequestHeaders(request.headers, { remoteAddress: conn.remoteAddress, scheme: "http" }, deps.newRequestId);
    if (conn.peer) await setXfcc(headers, conn.peer, options.localId?.());
    else headers.delete(XFCC);
    if (options.security) {
      const verdict = await checkInbound(options.security(), request.method, target, headers, conn, options.appPort ?? 0, options.onDecision);
      if (!verdict.ok) return verdict.response;
      target = verdict.target;
      headers = verdict.headers;
    }
    try {
      const response = await deps.upstream.send({ url: `http://${app}${target}`, method: request.method, headers, body: request.body });
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers: downstreamResponseHeaders(response.headers) });
    } catch (error) {
      if (error instanceof UpstreamError) {
        return localReply(new ProxyError(error.failure === "connect" ? "upstream-connect" : "upstream-reset", error.message));
      }
      deps.log(`inbound: ${(error as Error)?.stack ?? error}`);
      return localReply(new ProxyError("internal"));
    }
  }
}
