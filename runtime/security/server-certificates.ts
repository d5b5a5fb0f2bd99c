// The certificates a gateway port serves to TLS clients (Gateway servers with protocol HTTPS and
// tls.mode SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL): loaded from the PEM files each server
// names or from its credentialName's folder (credential-files.ts) or Secret (a CredentialSource,
// credential-source.ts: watched by name, an update served to new connections), or, for ISTIO_MUTUAL, the
// gateway's own workload certificate with the mesh root as the client CA; chosen per connection by
// the ClientHello's server name as Envoy chooses a filter chain (an exact host first, then the
// longest "*." wildcard, then a server for "*"), and kept current: the folders of the files are
// watched, and a changed file (certificate, key or CA) is served to the next connection once it
// loads and the pair belongs together — a half-written or mismatched pair leaves the previous one
// in service. Client certificates are checked by client-certificates.ts.
import { platform, type ServerTls, type TlsCredentials } from "../platform/index.ts";
// from its own module, not the platform's index (which loads it lazily): only a gateway's TLS
// servers check certificates, and a gateway listens with the same module anyway
import { serverTlsProblem } from "../platform/mesh-listener.ts";
import type { FileWatch } from "../platform/types.ts";
import { parseClientHello } from "./client-hello.ts";
import { normalizeHost } from "../model/hosts.ts";
import { systemClock } from "../lib/clock.ts";
import { clientCertificateVerifier } from "./client-certificates.ts";
import { credentialFiles, filesOf, readCredentials, type CredentialFiles } from "./credential-files.ts";
import type { CredentialSource } from "./credential-source.ts";
import { certificatesFromPemText, earliestNotAfter } from "./certificate.ts";

export type GatewayTlsMode = "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL" | "ISTIO_MUTUAL";

/** one Gateway server's TLS, as the config gave it */
export interface TlsServerConfig {
  /** the server's hosts, "ns/" prefixes removed */
  hosts: readonly string[];
  mode: GatewayTlsMode;
  serverCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  credentialName?: string;
  subjectAltNames?: readonly string[];
  verifyCertificateSpki?: readonly string[];
  verifyCertificateHash?: readonly string[];
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: readonly string[];
}

/** where certificates that are not file paths come from */
export interface CertificateSources {
  /** the gateway's workload identity (ISTIO_MUTUAL); absent without --ca-dir / --ca */
  identity?: { current(): TlsCredentials; spiffeId: { toString(): string } };
  /** --credentials-dir: credentialName's folder of PEM files */
  credentialsDir?: string;
  /** credentialName from elsewhere (Kubernetes Secrets), when credentialsDir is absent */
  credentials?: CredentialSource;
  /** why credentialName cannot be served, when neither is given */
  noCredentials?: string;
}

export interface ServerCertificates {
  /** the TLS for a connection from its ClientHello record, or why it is refused */
  select(helloRecord: Uint8Array): ServerTls | string;
  /** every server's files have been read once (a server whose files fail refuses its hosts) */
  readonly ready: Promise<void>;
  /** the servers' current material, for /config_dump and logs: host → certificate file and state */
  describe(): { hosts: readonly string[]; mode: GatewayTlsMode; certificate: string; loaded: boolean; problem?: string }[];
  /**
   * the notAfter (ms) of each certificate in service, by its credentialName or certificate file
   * (ISTIO_MUTUAL's is the workload certificate, reported as such), and as "ca:<that name>" the
   * earliest of its CA certificates (the chain's intermediates and roots, and the client-certificate
   * CA of MUTUAL): dietmesh_certificate_expiry_*, as Envoy counts CA certificates too
   */
  expiries(): [name: string, notAfterMs: number][];
  close(): void;
}

/** Istio's protocol version names → node:tls's */
export const TLS_VERSIONS: Record<string, string | undefined> = { TLS_AUTO: undefined, TLSV1_0: "TLSv1", TLSV1_1: "TLSv1.1", TLSV1_2: "TLSv1.2", TLSV1_3: "TLSv1.3" };

class Served {
  current: ServerTls | null = null;
  problem: string | undefined;
  /** the PEM texts current was made from */
  texts = "";
  /** current's leaf certificate's notAfter (ms); undefined when it could not be read */
  notAfterMs: number | undefined;
  /** the earliest notAfter of the CA certificates it serves or trusts */
  caNotAfterMs: number | undefined;
  constructor(
    readonly config: TlsServerConfig,
    /** null for ISTIO_MUTUAL (the identity), a credential from a source, or a credentialName that cannot be resolved */
    readonly files: CredentialFiles | null,
    /** the credential's source when it is not a folder */
    readonly source?: CredentialSource,
  ) {}
  get origin(): string {
    return this.config.credentialName ? `credential ${this.config.credentialName}` : this.config.mode === "ISTIO_MUTUAL" ? "the workload certificate" : (this.config.serverCertificate ?? "");
  }
}

export function serverCertificates(servers: readonly TlsServerConfig[], log: (message: string, level?: "error") => void, sources: CertificateSources = {}): ServerCertificates {
  const served = servers.map((config) => {
    const wantCa = config.mode === "MUTUAL" || config.mode === "OPTIONAL_MUTUAL";
    if (config.mode === "ISTIO_MUTUAL") return new Served(config, null);
    if (config.credentialName === undefined) return new Served(config, filesOf(config, wantCa));
    if (!sources.credentialsDir && sources.credentials) return new Served(config, null, sources.credentials);
    if (!sources.credentialsDir) {
      const s = new Served(config, null);
      s.problem = sources.noCredentials ?? "credentialName needs --credentials-dir DIR (DIR/<name>/tls.crt, tls.key, ca.crt)";
      return s;
    }
    try {
      return new Served(config, credentialFiles(sources.credentialsDir, config.credentialName, wantCa));
    } catch (error) {
      const s = new Served(config, null);
      s.problem = (error as Error).message;
      return s;
    }
  });
  const exact = new Map<string, Served>();
  const wildcards: { suffix: string; served: Served }[] = [];
  let any: Served | undefined;
  for (const s of served) {
    for (const raw of s.config.hosts) {
      const host = normalizeHost(raw);
      if (host === "*") any ??= s;
      else if (host.startsWith("*.")) wildcards.push({ suffix: host.slice(1), served: s });
      else if (!exact.has(host)) exact.set(host, s);
    }
  }
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length);

  function choose(serverName: string | undefined): Served | undefined {
    if (serverName === undefined) return any;
    const byName = exact.get(serverName);
    if (byName) return byName;
    for (const w of wildcards) if (serverName.endsWith(w.suffix)) return w.served;
    return any;
  }

  /** the ServerTls for texts under s's settings, or why it cannot be served */
  function build(s: Served, certChainPem: string, keyPem: string, caPem: string | undefined, localUri?: string): ServerTls | string {
    const { config } = s;
    const next: ServerTls = {
      certChainPem,
      keyPem,
      clientCertificate: config.mode === "MUTUAL" || config.mode === "ISTIO_MUTUAL",
      optionalClientCertificate: config.mode === "OPTIONAL_MUTUAL",
      minVersion: config.minProtocolVersion ? TLS_VERSIONS[config.minProtocolVersion] : undefined,
      maxVersion: config.maxProtocolVersion ? TLS_VERSIONS[config.maxProtocolVersion] : undefined,
      ciphers: config.cipherSuites?.length ? config.cipherSuites.join(":") : undefined,
      ...(localUri ? { localUri } : {}),
    };
    if (config.mode !== "SIMPLE") {
      if (!caPem) return "no CA certificates for client certificates (caCertificates, or ca.crt in the credential)";
      next.caPem = caPem;
      try {
        next.verifyPeer = clientCertificateVerifier({ caPem, subjectAltNames: config.subjectAltNames, verifyCertificateSpki: config.verifyCertificateSpki, verifyCertificateHash: config.verifyCertificateHash }, systemClock);
      } catch (error) {
        return `CA certificates: ${(error as Error).message}`;
      }
    }
    return serverTlsProblem(next) ?? next;
  }

  async function load(s: Served): Promise<void> {
    if (!s.files && !s.source) return;
    let texts;
    try {
      texts = s.files ? await readCredentials(s.files) : await readSource(s);
    } catch (error) {
      return keepPrevious(s, (error as Error).message);
    }
    const key = `${texts.certChainPem}\0${texts.keyPem}\0${texts.caPem ?? ""}`;
    if (s.current && s.texts === key) return;
    const next = build(s, texts.certChainPem, texts.keyPem, texts.caPem);
    if (typeof next === "string") return keepPrevious(s, `${s.origin}: ${next}`);
    const first = s.current === null;
    s.current = next;
    s.texts = key;
    s.notAfterMs = leafNotAfter(texts.certChainPem);
    // its CA certificates: the chain after the leaf, and the client CA of MUTUAL
    s.caNotAfterMs = earliestNotAfter([texts.certChainPem, s.config.mode === "SIMPLE" ? undefined : texts.caPem], 1);
    s.problem = undefined;
    log(`TLS for ${s.config.hosts.join(", ")}: ${first ? "serving" : "now serving the new"} certificate from ${s.origin}${s.config.mode === "SIMPLE" ? "" : ` (${s.config.mode})`}`);
  }

  async function readSource(s: Served): Promise<{ certChainPem: string; keyPem: string; caPem?: string }> {
    const wantCa = s.config.mode === "MUTUAL" || s.config.mode === "OPTIONAL_MUTUAL";
    const m = await s.source!.read(s.config.credentialName!, { pair: true, ca: wantCa ? "required" : "none" });
    return { certChainPem: m.certChainPem!, keyPem: m.keyPem!, caPem: m.caPem };
  }

  function keepPrevious(s: Served, problem: string): void {
    if (s.problem === problem) return;
    s.problem = problem;
    log(`TLS for ${s.config.hosts.join(", ")}: ${problem}${s.current ? " (the previous certificate stays in service)" : " (its hosts are refused until it loads)"}`, "error");
  }

  // ISTIO_MUTUAL: one ServerTls per identity credentials object (a renewal hands a new one)
  const fromIdentity = new WeakMap<TlsCredentials, ServerTls | string>();
  function identityTls(s: Served): ServerTls | string {
    const identity = sources.identity;
    if (!identity) return "ISTIO_MUTUAL needs the gateway's mesh identity (--ca-dir or --ca)";
    const credentials = identity.current();
    let tls = fromIdentity.get(credentials);
    if (!tls) {
      tls = build(s, credentials.certChainPem, credentials.keyPem, credentials.rootCertsPem, identity.spiffeId.toString());
      fromIdentity.set(credentials, tls);
    }
    return tls;
  }
  for (const s of served) {
    if (s.config.mode !== "ISTIO_MUTUAL") continue;
    const tls = identityTls(s);
    if (typeof tls === "string") s.problem = tls;
  }
  for (const s of served) if (s.problem && !s.files && !s.source) log(`TLS for ${s.config.hosts.join(", ")}: ${s.problem} (its hosts are refused)`, "error");

  const ready = Promise.all(served.map(load)).then(() => {});
  const watches: FileWatch[] = [];
  const dirs = new Map<string, Set<Served>>();
  for (const s of served) {
    for (const dir of s.files?.dirs ?? []) {
      const set = dirs.get(dir) ?? new Set();
      set.add(s);
      dirs.set(dir, set);
    }
  }
  const credentialDirs = new Set(served.flatMap((s) => (s.config.credentialName && s.files ? s.files.dirs.slice(1) : [])));
  /** a credential's own folder that did not exist yet: watched once it appears */
  const unwatched = new Set<string>();
  const watch = (dir: string, set: Set<Served>): void => {
    try {
      // any change in the folder: re-read (Kubernetes swaps a secret's files by renaming a folder)
      watches.push(platform.watchDir(dir, () => void ready.then(() => (unwatched.size && retryWatches(), Promise.all([...set].map(load))))));
      unwatched.delete(dir);
    } catch (error) {
      // the credentials folder's own watch sees a credential's folder appear
      if (credentialDirs.has(dir)) unwatched.add(dir);
      else log(`TLS: cannot watch ${dir} for certificate renewals: ${(error as Error).message}`);
    }
  };
  const retryWatches = (): void => {
    if (closed) return;
    for (const dir of [...unwatched]) watch(dir, dirs.get(dir)!);
  };
  let closed = false;
  for (const [dir, set] of dirs) watch(dir, set);
  // a Secret's change (kubectl replace, a renewal by cert-manager) reloads the servers that name it
  const unwatchSources = served.flatMap((s) => (s.source && s.source.watch ? [s.source.watch(s.config.credentialName!, s.config.mode !== "SIMPLE", () => void ready.then(() => (closed ? undefined : load(s))))] : []));

  return {
    ready,
    select(record) {
      const hello = parseClientHello(record);
      if (typeof hello === "string") return `malformed ClientHello: ${hello}`;
      const s = choose(hello.serverName);
      if (!s) return `no HTTPS server for ${hello.serverName === undefined ? "a client without SNI" : `SNI ${hello.serverName}`}`;
      if (s.config.mode === "ISTIO_MUTUAL") return identityTls(s);
      return s.current ?? `the certificate for ${s.config.hosts.join(", ")} is not loaded: ${s.problem ?? "still loading"}`;
    },
    describe: () =>
      served.map((s) => {
        const loaded = s.config.mode === "ISTIO_MUTUAL" ? typeof identityTls(s) !== "string" : s.current !== null;
        return { hosts: s.config.hosts, mode: s.config.mode, certificate: s.origin, loaded, ...(s.problem ? { problem: s.problem } : {}) };
      }),
    expiries: () =>
      served.flatMap((s): [string, number][] =>
        s.config.mode === "ISTIO_MUTUAL" || !s.current
          ? []
          : [
              ...(s.notAfterMs !== undefined ? [[s.config.credentialName ?? s.origin, s.notAfterMs] as [string, number]] : []),
              ...(s.caNotAfterMs !== undefined ? [[`ca:${s.config.credentialName ?? s.origin}`, s.caNotAfterMs] as [string, number]] : []),
            ]),
    close() {
      closed = true;
      for (const w of watches.splice(0)) w.close();
      for (const stop of unwatchSources.splice(0)) stop();
    },
  };
}

/** the first certificate's notAfter in ms (the leaf: PEM chains list it first); undefined if unreadable */
function leafNotAfter(certChainPem: string): number | undefined {
  try {
    return certificatesFromPemText(certChainPem)[0]?.notAfter.getTime();
  } catch {
    return undefined; // the TLS library accepted it; only the metric goes without
  }
}
