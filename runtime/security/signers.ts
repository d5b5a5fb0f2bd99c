// Where a workload's CSR goes. On one machine the sidecar can sign with the local CA directory
// in-process (`--ca-dir`, what the demo uses); elsewhere it asks `dietmesh ca serve` over HTTPS
// with a bootstrap or Kubernetes token (`--ca URL --ca-root FILE --token FILE`). Either way the
// identity comes from who the caller is (the service account given to the sidecar, or the token),
// never from the CSR.
import { httpsCall } from "../platform/https-client.ts";
import { platform } from "../platform/index.ts";
import type { Clock } from "../lib/clock.ts";
import type { CertificateAuthority } from "./ca.ts";
import { SecurityError } from "./errors.ts";
import { pemEncode } from "./pem-codec.ts";
import { SpiffeId } from "./spiffe-id.ts";
import type { CsrSigner } from "./workload-identity.ts";

export function localSigner(ca: CertificateAuthority, namespace: string, serviceAccount: string, clock: Pick<Clock, "now">, serverNames?: string[]): CsrSigner {
  const spiffeId = SpiffeId.forWorkload(ca.trustDomain, namespace, serviceAccount);
  const rootCertPem = pemEncode("CERTIFICATE", ca.certificate.rawData);
  return async (csr, ttlMs) => {
    // loaded on first use: a proxy with --ca (remoteSigner) never loads the CA's X.509 code
    const { issueSvidFromCsr } = await import("./ca.ts");
    const leaf = await issueSvidFromCsr(ca, { csr, spiffeId, clock, ttlMs, serverNames });
    return { certChainPem: pemEncode("CERTIFICATE", leaf.rawData), rootCertPem };
  };
}

export interface RemoteSignerOptions {
  /** https://host:port of `dietmesh ca serve` */
  url: string;
  /** the root that signed the CA's serving certificate (the mesh root) */
  caRootPem: string;
  /** read before every request: projected Kubernetes tokens are rotated on disk */
  tokenFile: string;
}

/** the CA's JSON API: POST /v1/certificate {csr, ttlSeconds?} with a bearer token */
export function remoteSigner(options: RemoteSignerOptions): CsrSigner {
  const endpoint = `${options.url.replace(/\/+$/, "")}/v1/certificate`;
  return async (csr, ttlMs) => {
    const token = (await platform.readTextFile(options.tokenFile)).trim();
    const reply = await httpsCall({
      url: endpoint,
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ csr, ttlSeconds: ttlMs ? Math.round(ttlMs / 1000) : undefined }),
      caPem: options.caRootPem,
    });
    let body: { certChain?: unknown; rootCert?: unknown; error?: unknown };
    try {
      body = JSON.parse(reply.body);
    } catch {
      body = {};
    }
    if (reply.status !== 200) throw new SecurityError("ca-refused", `${endpoint} answered ${reply.status}: ${typeof body.error === "string" ? body.error : reply.body.slice(0, 200)}`);
    if (!Array.isArray(body.certChain) || typeof body.rootCert !== "string" || !body.certChain.every((c) => typeof c === "string")) {
      throw new SecurityError("ca-refused", `${endpoint} answered without certChain/rootCert`);
    }
    return { certChainPem: (body.certChain as string[]).join(""), rootCertPem: body.rootCert };
  };
}
