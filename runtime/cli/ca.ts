// `dietmesh ca init|issue|token`: the mesh CA run by hand, for machines without a cluster — make a
// root, issue a workload's files (Istio's names), mint a bootstrap token for a service account.
import { parseDuration, DurationError } from "../config/duration.ts";
import { issueSvid, DEFAULT_SVID_TTL_MS } from "../security/ca.ts";
import { initCaDir, loadCaDir, writeSvidFiles, CA_FILES, SVID_FILES } from "../security/ca-store.ts";
import { SecurityError } from "../security/errors.ts";
import { generateWorkloadKey, privateKeyToPem, KEY_TYPES, type KeyType } from "../security/keys.ts";
import { certificatesToPem } from "../security/pem.ts";
import { SpiffeId } from "../security/spiffe-id.ts";
import { checkServiceAccountNames, issueBootstrapToken, DEFAULT_TOKEN_AUDIENCE, DEFAULT_TOKEN_TTL_MS } from "../security/tokens.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { platform } from "../platform/index.ts";
import { listenHttp1Mesh } from "../exchange/http1/listen.ts";
import { toWebRequest } from "../exchange/web-request.ts";
import { trustBundleJson } from "../security/bundle.ts";
import { createCaHandler } from "../security/ca-http.ts";
import { createCaService } from "../security/ca-service.ts";
import { localSigner } from "../security/signers.ts";
import { startWorkloadIdentity } from "../security/workload-identity.ts";
import { parseFlags, UsageError, type CommandSpec, type ParsedFlags } from "./args.ts";

export const caSpec: CommandSpec = {
  name: "ca",
  summary: "The mesh CA: make a root, issue workload certificates, mint bootstrap tokens, sign CSRs over HTTPS.",
  usage: "dietmesh ca init|issue|token|serve --dir DIR [flags]",
  // defaults live in the code, not here, so a flag given to the wrong sub-command is noticed
  flags: [
    { name: "dir", kind: "string", value: "DIR", help: "the CA's directory (all sub-commands)" },
    { name: "trust-domain", kind: "string", value: "TD", help: "init: trust domain (default cluster.local)" },
    { name: "key-type", kind: "string", value: "TYPE", help: `init: root key, ${KEY_TYPES.join(" or ")} (default ec-p256)` },
    { name: "namespace", kind: "string", value: "NS", help: "issue, token: the workload's namespace" },
    { name: "service-account", kind: "string", value: "SA", help: "issue, token: the workload's service account" },
    { name: "out", kind: "string", value: "DIR", help: `issue: where to write ${Object.values(SVID_FILES).join(", ")}` },
    { name: "ttl", kind: "string", value: "DURATION", help: "issue: certificate life (default 24h); serve: certificate life when the caller asks for none, and --max-ttl's default (default 24h); token: token life (default 1h)" },
    { name: "audience", kind: "string", value: "AUD", help: `token: audience; serve: the audience callers' tokens must have (default ${DEFAULT_TOKEN_AUDIENCE})` },
    { name: "listen", kind: "string", value: "HOST:PORT", help: "serve: where to listen for HTTPS (port 0: any free port)" },
    { name: "kubernetes-issuer", kind: "string", value: "URL", help: "serve: also accept Kubernetes service-account tokens from this issuer (its OIDC discovery gives the JWKS)" },
    { name: "max-ttl", kind: "string", value: "DURATION", help: "serve: longest certificate life a caller may ask for (default: --ttl)" },
    { name: "server-name", kind: "list", value: "NAME", help: "serve: a DNS name or IP clients reach the CA by, put in its HTTPS certificate (e.g. dietmesh-ca.dietmesh-system.svc)" },
  ],
};

const ALLOWED: Record<string, string[]> = {
  init: ["dir", "trust-domain", "key-type"],
  issue: ["dir", "namespace", "service-account", "out", "ttl"],
  token: ["dir", "namespace", "service-account", "ttl", "audience"],
  serve: ["dir", "listen", "ttl", "max-ttl", "audience", "kubernetes-issuer", "server-name"],
};

export interface CaCommandIo {
  print?: (line: string) => void;
  clock?: Pick<Clock, "now">;
}

export async function runCa(argv: string[], io: CaCommandIo = {}): Promise<number> {
  const print = io.print ?? ((line: string) => console.log(line));
  const clock = io.clock ?? systemClock;
  const flags = parseFlags(caSpec, argv);
  const [sub, ...extra] = flags.positionals;
  if (!sub || !(sub in ALLOWED)) throw new UsageError(`name a sub-command: ${Object.keys(ALLOWED).join(", ")}`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  // only what the command line names: a DIETMESH_NAMESPACE set for the proxies in the same
  // environment does not stop `ca init`; the sub-command reads only its own flags
  for (const name of flags.given ?? [...Object.keys(flags.strings).filter((n) => flags.strings[n] !== undefined), ...Object.keys(flags.lists).filter((n) => flags.lists[n].length)]) {
    if (!ALLOWED[sub].includes(name)) throw new UsageError(`--${name} does not apply to ca ${sub}`);
  }
  const dir = required(flags, "dir");
  if (sub === "init") {
    const keyType = (flags.strings["key-type"] ?? "ec-p256") as KeyType;
    if (!KEY_TYPES.includes(keyType)) throw new UsageError(`--key-type must be ${KEY_TYPES.join(" or ")}, got "${keyType}"`);
    const trustDomain = flags.strings["trust-domain"] ?? "cluster.local";
    if (!SpiffeId.tryParse(`spiffe://${trustDomain}`).ok || trustDomain.includes("/")) throw new UsageError(`--trust-domain "${trustDomain}" is not a SPIFFE trust domain (a-z, 0-9, '.', '_', '-')`);
    const { ca } = await initCaDir(dir, { trustDomain, keyType, clock });
    print(`CA for trust domain ${trustDomain} (${keyType}) in ${dir}: ${CA_FILES.rootCert} valid until ${ca.certificate.notAfter.toISOString()}`);
    return 0;
  }
  if (sub === "serve") return serveCa(dir, flags, print);
  const { namespace, serviceAccount } = workload(flags);
  const { ca, tokenKey } = await loadCaDir(dir);
  if (sub === "issue") {
    const out = required(flags, "out");
    const spiffeId = SpiffeId.forWorkload(ca.trustDomain, namespace, serviceAccount);
    // operator issuance: the key is made here and written only to --out, with owner-only access
    const keys = await generateWorkloadKey();
    const leaf = await issueSvid(ca, { spiffeId, publicKey: keys.publicKey, clock, ttlMs: duration(flags, DEFAULT_SVID_TTL_MS) });
    await writeSvidFiles(out, { certChainPem: certificatesToPem([leaf]), keyPem: await privateKeyToPem(keys.privateKey), rootCertPem: certificatesToPem([ca.certificate]) });
    print(`${spiffeId} in ${out}: ${Object.values(SVID_FILES).join(", ")} (valid until ${leaf.notAfter.toISOString()})`);
    return 0;
  }
  // token: only the JWT on stdout, so $(dietmesh ca token ...) captures it
  print(await issueBootstrapToken(tokenKey, { namespace, serviceAccount, clock, audience: flags.strings.audience ?? DEFAULT_TOKEN_AUDIENCE, ttlMs: duration(flags, DEFAULT_TOKEN_TTL_MS) }));
  return 0;
}

function required(flags: ParsedFlags, name: string): string {
  const value = flags.strings[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

function workload(flags: ParsedFlags): { namespace: string; serviceAccount: string } {
  const namespace = required(flags, "namespace");
  const serviceAccount = required(flags, "service-account");
  try {
    checkServiceAccountNames(namespace, serviceAccount);
  } catch (error) {
    if (error instanceof SecurityError) throw new UsageError(error.message);
    throw error;
  }
  return { namespace, serviceAccount };
}

function duration(flags: ParsedFlags, fallback: number, name = "ttl"): number {
  const text = flags.strings[name];
  if (text === undefined) return fallback;
  try {
    const ms = parseDuration(text);
    if (ms < 1000) throw new UsageError(`--${name} must be at least 1s, got "${text}"`);
    return ms;
  } catch (error) {
    if (error instanceof DurationError) throw new UsageError(`--${name}: ${error.message}`);
    throw error;
  }
}

/**
 * `ca serve`: signs workload CSRs over HTTPS until SIGTERM. Its serving certificate is an SVID of
 * its own (spiffe://TD/ns/istio-system/sa/dietmesh-ca) with the --server-name names, the listen
 * host (unless a wildcard address), localhost and 127.0.0.1 as DNS/IP names, issued in-process and
 * renewed like a workload's.
 */
async function serveCa(dir: string, flags: ParsedFlags, print: (line: string) => void): Promise<number> {
  const listen = required(flags, "listen");
  const at = listen.lastIndexOf(":");
  const host = listen.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--listen: expected HOST:PORT, got "${listen}"`);
  const { ca, tokenKey } = await loadCaDir(dir);
  const ttlMs = duration(flags, DEFAULT_SVID_TTL_MS);
  const audience = flags.strings.audience ?? DEFAULT_TOKEN_AUDIENCE;
  const kubernetes = flags.strings["kubernetes-issuer"] ? await kubernetesKeys(flags.strings["kubernetes-issuer"]) : undefined;
  const service = createCaService({
    ca,
    auth: { localKeys: tokenKey.jwks, audience, clock: systemClock, kubernetesJwks: kubernetes?.keys, kubernetesIssuer: kubernetes?.issuer },
    defaultTtlMs: ttlMs,
    maxTtlMs: duration(flags, ttlMs, "max-ttl"),
  });
  const identity = await startWorkloadIdentity({
    signer: localSigner(ca, "istio-system", "dietmesh-ca", systemClock, [...new Set([...flags.lists["server-name"], ...(host === "0.0.0.0" || host === "::" ? [] : [host]), "localhost", "127.0.0.1"])]),
    clock: systemClock,
  });
  const caHandler = createCaHandler(service, await trustBundleJson([ca.certificate]), print);
  const server = await listenHttp1Mesh({
    hostname: host,
    port,
    handler: (request, conn) => caHandler(toWebRequest(request), conn),
    credentials: identity.current,
    accept: () => ({ plaintext: false, tls: true, clientCertificate: false }),
  });
  print(`ca serving ${ca.trustDomain} on https://${listen.slice(0, at)}:${server.port}${kubernetes ? ` (also Kubernetes tokens from ${kubernetes.issuer})` : ""}`);
  await new Promise<void>((resolve) => {
    platform.onSignal("SIGTERM", resolve);
    platform.onSignal("SIGINT", resolve);
  });
  identity.stop();
  await server.stop(true);
  return 0;
}

/** OIDC discovery of a Kubernetes API server's service-account issuer */
async function kubernetesKeys(issuer: string): Promise<{ issuer: string; keys: JWTVerifyGetKey }> {
  const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(url).catch((cause) => {
    throw new UsageError(`--kubernetes-issuer: cannot fetch ${url}: ${(cause as Error).message}`);
  });
  const doc = (await response.json().catch(() => ({}))) as { issuer?: unknown; jwks_uri?: unknown };
  if (!response.ok || typeof doc.jwks_uri !== "string" || typeof doc.issuer !== "string") {
    throw new UsageError(`--kubernetes-issuer: ${url} answered ${response.status} without issuer and jwks_uri`);
  }
  return { issuer: doc.issuer, keys: createRemoteJWKSet(new URL(doc.jwks_uri)) };
}
