// One object per workload holding everything the inbound path needs from the security.istio.io
// kinds, compiled once per config snapshot: the mTLS mode per port (PeerAuthentication), path
// normalization, JWT authentication (RequestAuthentication) and the authorization decision
// (AuthorizationPolicy). Rebuild it when the config changes; pass the same jwksCache each time so
// fetched keys survive the swap.
import type { MeshConfig } from "../../config/types.ts";
import type { Clock } from "../../lib/clock.ts";
import { compileAuthorization, type Authorizer } from "./authorization.ts";
import { compileTcpAuthorization } from "./tcp-authorization.ts";
import { createJwksCache, type FetchJwks, type JwksCache } from "./jwks-cache.ts";
import { appliesTo } from "./workload-scope.ts";
import { isUpperCaseMethod, normalizePath, type NormalizedTarget, type PathNormalization } from "./path-normalize.ts";
import { compilePeerAuthentication, type PeerMtlsMode } from "./peer-authentication.ts";
import { compileRequestAuthentication, type RequestAuthenticator } from "./request-authentication.ts";
import { DEFAULT_ROOT_NAMESPACE, type WorkloadRef } from "./workload-scope.ts";

export type { AuthzAttributes } from "./attributes.ts";
export type { AuthzDecision, AuthzReason, AuthzVerdict, Authorizer } from "./authorization.ts";
export type { AuthnResult, AuthnSuccess, RequestAuthenticator } from "./request-authentication.ts";
export type { FetchJwks, JwksCache, KeySet } from "./jwks-cache.ts";
export type { NormalizedTarget, PathNormalization } from "./path-normalize.ts";
export type { PeerMtlsMode, PeerAuthenticationDecision } from "./peer-authentication.ts";
export type { WorkloadRef } from "./workload-scope.ts";
export { RBAC_ACCESS_DENIED, DRY_RUN_ANNOTATION, compileAuthorization } from "./authorization.ts";
export { createJwksCache } from "./jwks-cache.ts";
export { normalizePath, isUpperCaseMethod, PATH_NORMALIZATIONS } from "./path-normalize.ts";
export { compilePeerAuthentication, resolvePeerAuthentication } from "./peer-authentication.ts";
export { compileRequestAuthentication } from "./request-authentication.ts";
export { parseCookies } from "./jwt-locations.ts";
export { DEFAULT_ROOT_NAMESPACE } from "./workload-scope.ts";

/** the parts of a MeshConfig this module reads (a whole MeshConfig will do) */
export type SecurityConfig = Pick<MeshConfig, "peerAuthentications" | "authorizationPolicies" | "requestAuthentications">;

export interface SecurityDeps {
  clock: Pick<Clock, "now">;
  /** GET a JWK set (the lead wires a real fetch); used only when no jwksCache is given */
  fetchJwks?: FetchJwks;
  /** share one across config reloads */
  jwksCache?: JwksCache;
  /** meshConfig.rootNamespace; "istio-system" by default */
  rootNamespace?: string;
  /** meshConfig.pathNormalization.normalization; "BASE" by default */
  pathNormalization?: PathNormalization;
}

export interface WorkloadSecurity {
  /** the mTLS mode the inbound port accepts */
  peerMode(port: number): PeerMtlsMode;
  /** normalizes a raw request-target; 400 for %00, control characters, a target not starting with "/" */
  normalize(rawTarget: string): NormalizedTarget;
  /** false → answer 400 (Istio rejects methods not in upper case) */
  methodOk(method: string): boolean;
  authenticate: RequestAuthenticator;
  authorize: Authorizer;
  /** the same policies for TCP connections (tcp-authorization.ts: HTTP-only fields resolved toward refusal) */
  authorizeTcp: Authorizer;
  /** some RequestAuthentication applies (else authenticate() never refuses and adds nothing) */
  readonly authenticates: boolean;
  /** some AuthorizationPolicy applies (else authorize() allows everything) */
  readonly authorizes: boolean;
}

export function compileWorkloadSecurity(config: SecurityConfig, workload: WorkloadRef, deps: SecurityDeps): WorkloadSecurity {
  const rootNamespace = deps.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const mode = deps.pathNormalization ?? "BASE";
  const jwksCache = deps.jwksCache ?? createJwksCache({
    clock: deps.clock,
    fetchJwks: deps.fetchJwks ?? (async (uri) => Promise.reject(new Error(`no fetchJwks given to fetch ${uri}`))),
  });
  return {
    peerMode: compilePeerAuthentication(config.peerAuthentications, workload, rootNamespace),
    normalize: (rawTarget) => normalizePath(rawTarget, mode),
    methodOk: isUpperCaseMethod,
    authenticate: compileRequestAuthentication(config.requestAuthentications, workload, { clock: deps.clock, jwksCache, rootNamespace }),
    authorize: compileAuthorization(config.authorizationPolicies, workload, rootNamespace),
    authorizeTcp: compileTcpAuthorization(config.authorizationPolicies, workload, rootNamespace),
    authenticates: config.requestAuthentications.some((p) => appliesTo(p, workload, rootNamespace)),
    authorizes: config.authorizationPolicies.some((p) => appliesTo(p, workload, rootNamespace)),
  };
}
