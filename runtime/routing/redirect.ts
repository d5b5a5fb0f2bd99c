// Route `redirect` compiled once into a function building the redirect Response, following what
// Envoy's RedirectAction does with the fields Istio sets (route.go ApplyRedirect).
import type { HTTPRedirect } from "../config/types.ts";
import { authorityPort } from "../model/hosts.ts";
import type { RequestFacts } from "./request-facts.ts";

export const REDIRECT_CODES: readonly number[] = [301, 302, 303, 307, 308];

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// what may never reach a Location header we build: CR/LF, other controls, spaces
const UNSAFE = /[\x00-\x20\x7f]/;

/** Why this redirect cannot be served, or undefined. */
export function redirectError(r: HTTPRedirect): string | undefined {
  if (r.redirectCode !== undefined && r.redirectCode !== 0 && !REDIRECT_CODES.includes(r.redirectCode)) {
    return `redirectCode ${r.redirectCode} is not one of ${REDIRECT_CODES.join(", ")}`;
  }
  if (r.scheme !== undefined && !SCHEME.test(r.scheme)) return `redirect scheme ${JSON.stringify(r.scheme)} is not a URI scheme`;
  if (r.uri !== undefined && (UNSAFE.test(r.uri) || r.uri.includes("#"))) return "redirect uri has whitespace, control characters or '#'";
  if (r.authority !== undefined && (UNSAFE.test(r.authority) || /[/?#@\\]/.test(r.authority))) {
    return `redirect authority ${JSON.stringify(r.authority)} is not a host[:port]`;
  }
  if (r.port !== undefined && (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535)) return `redirect port ${r.port} is out of range`;
  if (r.port !== undefined && r.derivePort !== undefined) return "redirect: port and derivePort are mutually exclusive";
  return undefined;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** the authority without its port ("[::1]:80" → "[::1]"), keeping the host's case */
function stripPort(authority: string): string {
  const end = authority.startsWith("[") ? authority.indexOf("]") : -1;
  const colon = authority.lastIndexOf(":");
  return colon === -1 || colon < end ? authority : authority.slice(0, colon);
}

/**
 * Compiles a redirect into `(facts) => Response` (an empty-bodied 3xx with Location).
 * - status: `redirectCode`, default 301.
 * - path: `uri` replaces the whole path; the request's query is kept unless `uri` brings its own
 *   (Envoy path_redirect without strip_query, which Istio never sets). No `uri` keeps path + query.
 * - host: `authority` replaces the request's whole authority.
 * - port: `port`, or `derivePort: FROM_REQUEST_PORT` (the listener port, as Istio compiles it),
 *   replaces the port — omitted when it is the scheme's default (Istio drops :80 for http, :443 for
 *   https). `FROM_PROTOCOL_DEFAULT` drops the port, as the API documents (Envoy itself only drops
 *   it when the scheme changes). With neither, the request's port stays, except a default port of
 *   the old scheme is dropped when the scheme changes (Envoy's rule: http://h:80 → https://h).
 * - scheme: `scheme`, else the request's.
 * Config parts are checked by redirectError; request parts already passed the HTTP parser.
 */
export function compileRedirect(r: HTTPRedirect): (f: RequestFacts) => Response {
  const status = r.redirectCode && REDIRECT_CODES.includes(r.redirectCode) ? r.redirectCode : 301;
  const scheme = r.scheme?.toLowerCase();
  const uri = r.uri === undefined || r.uri === "" ? undefined : r.uri.startsWith("/") ? r.uri : `/${r.uri}`;
  const uriHasQuery = uri !== undefined && uri.includes("?");
  const fixedHost = r.authority || undefined;
  const mode = r.port !== undefined ? "port" : r.derivePort === "FROM_REQUEST_PORT" ? "request" : r.derivePort === "FROM_PROTOCOL_DEFAULT" ? "default" : "keep";

  return (f) => {
    const newScheme = scheme ?? f.scheme;
    let host = fixedHost ?? f.authority;
    if (mode === "keep") {
      if (!fixedHost && newScheme !== f.scheme) {
        const old = DEFAULT_PORT[f.scheme];
        if (old !== undefined && authorityPort(host) === old) host = stripPort(host);
      }
    } else {
      host = stripPort(host);
      const port = mode === "port" ? (r.port as number) : mode === "request" ? f.port : 0;
      if (port && port !== DEFAULT_PORT[newScheme]) host = `${host}:${port}`;
    }
    let path: string;
    if (uri === undefined) path = f.query === "" ? f.path : `${f.path}?${f.query}`;
    else path = uriHasQuery || f.query === "" ? uri : `${uri}?${f.query}`;
    return new Response(null, { status, headers: { location: `${newScheme}://${host}${path}` } });
  };
}
