// The certificates a gateway port serves to TLS clients (Gateway servers with protocol HTTPS and
// tls.mode SIMPLE): loaded from the PEM files each server names, chosen per connection by the
// ClientHello's server name as Envoy chooses a filter chain (an exact host first, then the longest
// "*." wildcard, then a server for "*"), and kept current: the folders of the files are watched, and
// a changed file is served to the next connection once certificate and key load and belong
// together — a half-written or mismatched pair leaves the previous one in service.
import { platform, serverTlsProblem, type ServerTls } from "../platform/index.ts";
import type { FileWatch } from "../platform/types.ts";
import { parseClientHello } from "./client-hello.ts";
import { normalizeHost } from "../model/hosts.ts";

/** one Gateway server's TLS, as the config gave it */
export interface TlsServerConfig {
  /** the server's hosts, "ns/" prefixes removed */
  hosts: readonly string[];
  serverCertificate: string;
  privateKey: string;
  minProtocolVersion?: string;
  maxProtocolVersion?: string;
  cipherSuites?: readonly string[];
}

export interface ServerCertificates {
  /** the TLS for a connection from its ClientHello record, or why it is refused */
  select(helloRecord: Uint8Array): ServerTls | string;
  /** every server's files have been read once (a server whose files fail refuses its hosts) */
  readonly ready: Promise<void>;
  /** the servers' current material, for /config_dump and logs: host → certificate file and state */
  describe(): { hosts: readonly string[]; certificate: string; loaded: boolean; problem?: string }[];
  close(): void;
}

const TLS_VERSIONS: Record<string, string | undefined> = { TLS_AUTO: undefined, TLSV1_0: "TLSv1", TLSV1_1: "TLSv1.1", TLSV1_2: "TLSv1.2", TLSV1_3: "TLSv1.3" };

class Served {
  current: ServerTls | null = null;
  problem: string | undefined;
  constructor(readonly config: TlsServerConfig) {}
}

function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? (at === 0 ? "/" : ".") : path.slice(0, at);
}

export function serverCertificates(servers: readonly TlsServerConfig[], log: (message: string) => void): ServerCertificates {
  const served = servers.map((config) => new Served(config));
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

  async function load(s: Served): Promise<void> {
    const { config } = s;
    let next: ServerTls;
    try {
      const [certChainPem, keyPem] = await Promise.all([platform.readTextFile(config.serverCertificate), platform.readTextFile(config.privateKey)]);
      next = {
        certChainPem,
        keyPem,
        clientCertificate: false,
        minVersion: config.minProtocolVersion ? TLS_VERSIONS[config.minProtocolVersion] : undefined,
        maxVersion: config.maxProtocolVersion ? TLS_VERSIONS[config.maxProtocolVersion] : undefined,
        ciphers: config.cipherSuites?.length ? config.cipherSuites.join(":") : undefined,
      };
    } catch (error) {
      return keepPrevious(s, `cannot read ${config.serverCertificate} / ${config.privateKey}: ${(error as Error).message}`);
    }
    if (s.current && s.current.certChainPem === next.certChainPem && s.current.keyPem === next.keyPem) return;
    const problem = serverTlsProblem(next);
    if (problem) return keepPrevious(s, `${config.serverCertificate} / ${config.privateKey}: ${problem}`);
    const first = s.current === null;
    s.current = next;
    s.problem = undefined;
    log(`TLS for ${config.hosts.join(", ")}: ${first ? "serving" : "now serving the new"} certificate ${config.serverCertificate}`);
  }

  function keepPrevious(s: Served, problem: string): void {
    s.problem = problem;
    log(`TLS for ${s.config.hosts.join(", ")}: ${problem}${s.current ? " (the previous certificate stays in service)" : " (its hosts are refused until it loads)"}`);
  }

  const ready = Promise.all(served.map(load)).then(() => {});
  const watches: FileWatch[] = [];
  const dirs = new Map<string, Set<Served>>();
  for (const s of served) {
    for (const file of [s.config.serverCertificate, s.config.privateKey]) {
      const dir = dirOf(file);
      const set = dirs.get(dir) ?? new Set();
      set.add(s);
      dirs.set(dir, set);
    }
  }
  for (const [dir, set] of dirs) {
    try {
      // any change in the folder: re-read (Kubernetes swaps a secret's files by renaming a folder)
      watches.push(platform.watchDir(dir, () => void ready.then(() => Promise.all([...set].map(load)))));
    } catch (error) {
      log(`TLS: cannot watch ${dir} for certificate renewals: ${(error as Error).message}`);
    }
  }

  return {
    ready,
    select(record) {
      const hello = parseClientHello(record);
      if (typeof hello === "string") return `malformed ClientHello: ${hello}`;
      const s = choose(hello.serverName);
      if (!s) return `no HTTPS server for ${hello.serverName === undefined ? "a client without SNI" : `SNI ${hello.serverName}`}`;
      return s.current ?? `the certificate for ${s.config.hosts.join(", ")} is not loaded: ${s.problem ?? "still loading"}`;
    },
    describe: () => served.map((s) => ({ hosts: s.config.hosts, certificate: s.config.serverCertificate, loaded: s.current !== null, ...(s.problem ? { problem: s.problem } : {}) })),
    close() {
      for (const w of watches.splice(0)) w.close();
    },
  };
}
