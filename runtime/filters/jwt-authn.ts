// RequestAuthentication (Envoy's jwt_authn filter): a token that fails verification → 401; no
// token → the request goes on without a request principal (AuthorizationPolicy decides). On
// success the token may be removed and claims copied to headers (outputClaimToHeaders), and the
// principal and claims are kept on the exchange for the authorization filter. A CORS preflight
// (OPTIONS with Origin and Access-Control-Request-Method) is not checked, as Istio configures
// Envoy's filter (bypass_cors_preflight): a browser sends no credentials with it, and
// AuthorizationPolicy still decides whether it passes.
import type { WorkloadSecurity } from "../security/policy/index.ts";
import { parseCookies } from "../security/policy/index.ts";
import { ProxyError } from "../exchange/errors.ts";
import { localReply } from "../exchange/local-reply.ts";
import type { Exchange, Filter, FilterResult } from "./chain.ts";

/**
 * The query without the parameters named (the ones that carried a token); every other piece stays
 * byte for byte, where re-serializing would turn "%20" into "+" and "/" into "%2F". A piece's name
 * is decoded as URLSearchParams decoded it to find the token.
 */
function withoutParams(query: string, names: readonly string[]): string {
  return query
    .split("&")
    .filter((piece, i) => {
      // a leading "?" is dropped only at the start of the query, as when the whole query was parsed
      const name = new URLSearchParams(i === 0 ? piece : `&${piece}`).keys().next().value;
      return name === undefined || !names.includes(name);
    })
    .join("&");
}

export function jwtAuthnFilter(security: () => WorkloadSecurity | undefined): Filter {
  async function authenticate(current: WorkloadSecurity, exchange: Exchange): Promise<FilterResult> {
    const { facts } = exchange;
    const params = facts.query ? new URLSearchParams(facts.query) : undefined;
    const cookie = facts.headers.get("cookie");
    const authn = await current.authenticate(facts.headers, params, cookie ? parseCookies(cookie) : undefined);
    if (!authn.ok) return localReply(new ProxyError("unauthenticated", undefined, undefined, "", { "www-authenticate": 'Bearer realm="dietmesh"' }), exchange.record);
    if (authn.removeHeaders.length || authn.setHeaders.length) {
      // a copy: the request's own headers stay as received (the access log reads them)
      const headers = new Headers(facts.headers);
      for (const name of authn.removeHeaders) headers.delete(name);
      for (const [name, value] of authn.setHeaders) headers.set(name, value);
      facts.headers = headers;
    }
    if (authn.removeParams.length && facts.query) facts.query = withoutParams(facts.query, authn.removeParams);
    exchange.authn = { principal: authn.principal, claims: authn.claims };
    return undefined;
  }

  return function jwtAuthn(exchange) {
    const current = security();
    if (!current?.authenticates) return undefined;
    const facts = exchange.facts;
    if (facts.method === "OPTIONS" && facts.headers.has("origin") && facts.headers.has("access-control-request-method")) return undefined;
    return authenticate(current, exchange);
  };
}
