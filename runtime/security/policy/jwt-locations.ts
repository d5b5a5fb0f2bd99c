// Where RequestAuthentication looks for a JWT: a rule's fromHeaders (name + prefix), fromParams
// and fromCookies, or, when it names none of them, Envoy's defaults: "Authorization: Bearer <t>"
// and the access_token query parameter. Every location any rule reads is searched; a token is
// only looked for where a rule reads, so a token elsewhere is simply not seen (Envoy's behaviour).
import type { JWTRule } from "../../config/types.ts";

export type TokenLocation =
  | { kind: "header"; name: string; prefix: string }
  | { kind: "param"; name: string }
  | { kind: "cookie"; name: string };

export const locationKey = (l: TokenLocation) => (l.kind === "header" ? `header:${l.name}:${l.prefix.toLowerCase()}` : `${l.kind}:${l.name}`);

export function ruleLocations(rule: JWTRule): TokenLocation[] {
  const explicit = rule.fromHeaders?.length || rule.fromParams?.length || rule.fromCookies?.length;
  if (!explicit) return [{ kind: "header", name: "authorization", prefix: "Bearer " }, { kind: "param", name: "access_token" }];
  return [
    ...(rule.fromHeaders ?? []).map((h): TokenLocation => ({ kind: "header", name: h.name.toLowerCase(), prefix: h.prefix ?? "" })),
    ...(rule.fromParams ?? []).map((name): TokenLocation => ({ kind: "param", name })),
    ...(rule.fromCookies ?? []).map((name): TokenLocation => ({ kind: "cookie", name })),
  ];
}

export interface FoundToken {
  token: string;
  location: TokenLocation;
}

/** "a=1; b=2" → Map { a → 1, b → 2 }; the first of a repeated name wins, as browsers order them */
export function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}

/**
 * The tokens present at the given locations, in order. A header whose value does not start with
 * the location's prefix (compared case-insensitively: "bearer" is "Bearer") holds no token for it,
 * so "Authorization: Basic ..." passes as "no token".
 */
export function findTokens(
  locations: readonly TokenLocation[],
  headers: Headers,
  params: URLSearchParams | undefined,
  cookies: () => ReadonlyMap<string, string>,
): FoundToken[] {
  const out: FoundToken[] = [];
  for (const location of locations) {
    if (location.kind === "header") {
      const value = headers.get(location.name);
      if (value === null) continue;
      const v = value.trim();
      if (v.slice(0, location.prefix.length).toLowerCase() !== location.prefix.toLowerCase()) continue;
      const token = v.slice(location.prefix.length).trim();
      if (token) out.push({ token, location });
    } else if (location.kind === "param") {
      for (const token of params?.getAll(location.name) ?? []) if (token) out.push({ token, location });
    } else {
      const token = cookies().get(location.name);
      if (token) out.push({ token, location });
    }
  }
  return out;
}
