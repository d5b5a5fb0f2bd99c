// The flags that give a sidecar or gateway its workload identity, and the identity they build:
// `--ca-dir DIR` signs with a local CA directory in-process (one machine, the demo), or
// `--ca URL --ca-root FILE --token FILE` asks `dietmesh ca serve` over HTTPS. Without either the
// proxy has no certificate: no mTLS, and plaintext everywhere.
import { platform } from "../platform/index.ts";
import { parseDuration } from "../config/duration.ts";
import { systemClock } from "../lib/clock.ts";
import { SpiffeId } from "../security/spiffe-id.ts";
import type { IdentityInfo, WorkloadIdentity } from "../security/workload-identity.ts";
// the identity code is imported only by a proxy that has one; the CA's X.509 library never is
import { UsageError, type FlagSpec, type ParsedFlags } from "./args.ts";
import type { LogLevel } from "./log.ts";

export const identityFlags: FlagSpec[] = [
  { name: "ca-dir", kind: "string", value: "DIR", help: "workload identity from a local CA directory (dietmesh ca init), signed in-process" },
  { name: "ca", kind: "string", value: "URL", help: "workload identity from dietmesh ca serve at URL (with --ca-root and --token)" },
  { name: "ca-root", kind: "string", value: "FILE", help: "with --ca: the mesh root certificate (PEM) the CA's server certificate chains to" },
  { name: "token", kind: "string", value: "FILE", help: "with --ca: the bootstrap or Kubernetes service-account token, re-read at every renewal" },
  { name: "cert-ttl", kind: "string", value: "DURATION", default: "24h", help: "certificate life asked of the CA; renewed at 50 % ± 10 %" },
];

/** onCertificate: each certificate put in use after the first (for the expiry metric) */
export async function setupIdentity(flags: ParsedFlags, who: { namespace: string; serviceAccount: string }, log: (m: string, level?: LogLevel) => void, onCertificate?: (info: IdentityInfo) => void): Promise<WorkloadIdentity | undefined> {
  const dir = flags.strings["ca-dir"];
  const url = flags.strings.ca;
  if (dir && url) throw new UsageError("give --ca-dir or --ca, not both");
  if (dir) for (const f of ["ca-root", "token"]) if (flags.strings[f]) throw new UsageError(`--${f} goes with --ca, not --ca-dir (a local CA directory has its own root)`);
  if (!dir && !url) {
    for (const f of ["ca-root", "token"]) if (flags.strings[f]) throw new UsageError(`--${f} needs --ca`);
    return undefined;
  }
  let ttlMs: number;
  try {
    ttlMs = parseDuration(flags.strings["cert-ttl"] ?? "24h");
  } catch (error) {
    throw new UsageError(`--cert-ttl: ${(error as Error).message}`);
  }
  const [{ loadLocalCa, localCaSigner }, { remoteSigner }, { startWorkloadIdentity }] = await Promise.all([
    import("../security/local-ca.ts"),
    import("../security/signers.ts"),
    import("../security/workload-identity.ts"),
  ]);
  let signer;
  let expect: SpiffeId | undefined;
  if (dir) {
    // local-ca.ts, not ca.ts: the same SVIDs without the CA's X.509 library in a serving proxy
    const ca = await loadLocalCa(dir);
    signer = localCaSigner(ca, who.namespace, who.serviceAccount, systemClock);
    expect = SpiffeId.forWorkload(ca.trustDomain, who.namespace, who.serviceAccount);
  } else {
    const root = flags.strings["ca-root"];
    const token = flags.strings.token;
    if (!root || !token) throw new UsageError("--ca needs --ca-root FILE and --token FILE");
    signer = remoteSigner({ url: url!, caRootPem: await platform.readTextFile(root), tokenFile: token });
  }
  const identity = await startWorkloadIdentity({
    signer,
    clock: systemClock,
    ttlMs,
    expect,
    onEvent: (event) => {
      if (event.type === "renew-failed") log(`certificate renewal failed (try ${event.attempt}, again in ${event.retryInMs} ms, expires in ${event.expiresInMs} ms): ${(event.error as Error)?.message ?? event.error}`, "warn");
      if (event.type === "expired") log("certificate expired: mTLS connections will fail until a renewal succeeds", "error");
    },
    onRenewed: (info) => {
      log(`certificate renewed: ${info.spiffeId} serial ${info.serial} until ${new Date(info.notAfter).toISOString()}`);
      onCertificate?.(info);
    },
  });
  // a CA service issues what the token names: the proxy's namespace and service account (its
  // policies, its metrics, /config_dump) must be the same workload, or it would act as one and
  // present the certificate of another
  const id = identity.spiffeId;
  if (id.namespace() !== who.namespace || id.serviceAccount() !== who.serviceAccount) {
    identity.stop();
    throw new UsageError(`the CA issued ${id} for this token, but this proxy is --namespace ${who.namespace} --service-account ${who.serviceAccount}: give the token's namespace and service account`);
  }
  const info = identity.info();
  log(`identity ${info.spiffeId} (certificate until ${new Date(info.notAfter).toISOString()})`);
  return identity;
}
