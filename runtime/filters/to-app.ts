// The last step of the inbound chain: the request, as the filters left it (normalized target,
// XFCC, claim headers), goes to the local app; the app's answer comes back without hop-by-hop
// headers. A failure is answered as Envoy would, through the one classifier and local reply.
import { ProxyError } from "../exchange/errors.ts";
import { downstreamResponse } from "../exchange/headers.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { PipelineDeps } from "../router/pipeline-deps.ts";
import { classifyFailure } from "../router/classify.ts";
import type { Exchange, Terminal } from "./chain.ts";
import type { HttpResponse } from "../exchange/types.ts";

export function toAppTerminal(app: string, deps: PipelineDeps): Terminal {
  async function send(exchange: Exchange): Promise<HttpResponse> {
    const { facts, record } = exchange;
    const target = facts.query ? `${facts.path}?${facts.query}` : facts.path;
    try {
      const response = await deps.upstream.send({ url: `http://${app}${target}`, method: facts.method, headers: facts.headers, body: exchange.request.body });
      record.details = "via_upstream";
      return downstreamResponse(response);
    } catch (error) {
      const failure = classifyFailure(error);
      return localReply(new ProxyError(failure.code, (error as Error).message), record);
    }
  }
  return send;
}
