// Where a Gateway server's certificate, key and CA come from on disk: the files its tls block names
// (serverCertificate, privateKey, caCertificates), or, for credentialName, a folder of credentials
// laid out as Kubernetes mounts Secrets (--credentials-dir DIR): DIR/<name>/tls.crt and tls.key
// (or the generic-secret keys cert and key), and the client CA in DIR/<name>/ca.crt (or cacert), else
// in DIR/<name>-cacert/ — Istio's convention for keeping the CA in its own Secret.
import { platform } from "../platform/index.ts";

/** each role's candidate paths, first readable wins */
export interface CredentialFiles {
  cert: readonly string[];
  key: readonly string[];
  /** absent: no client CA wanted */
  ca?: readonly string[];
  /** folders to watch for renewals (the ones that do not exist yet are skipped) */
  dirs: readonly string[];
}

export interface CredentialTexts {
  certChainPem: string;
  keyPem: string;
  caPem?: string;
}

/** a credentialName as a folder name: a Kubernetes Secret name (no "/", no "..") */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function filesOf(tls: { serverCertificate?: string; privateKey?: string; caCertificates?: string }, wantCa: boolean): CredentialFiles {
  const cert = [tls.serverCertificate!];
  const key = [tls.privateKey!];
  const ca = wantCa && tls.caCertificates ? [tls.caCertificates] : undefined;
  return { cert, key, ca, dirs: [...new Set([...cert, ...key, ...(ca ?? [])].map(dirOf))] };
}

/** DIR/<name>/…; throws for a name that is not a Secret name */
export function credentialFiles(dir: string, name: string, wantCa: boolean): CredentialFiles {
  if (!SECRET_NAME.test(name) || name.includes("..")) throw new Error(`credentialName ${JSON.stringify(name)} is not a Secret name`);
  const own = `${dir}/${name}`;
  const separate = `${dir}/${name}-cacert`;
  return {
    cert: [`${own}/tls.crt`, `${own}/cert`],
    key: [`${own}/tls.key`, `${own}/key`],
    ca: wantCa ? [`${own}/ca.crt`, `${own}/cacert`, `${separate}/ca.crt`, `${separate}/cacert`] : undefined,
    dirs: wantCa ? [dir, own, separate] : [dir, own],
  };
}

export async function readCredentials(files: CredentialFiles): Promise<CredentialTexts> {
  const [certChainPem, keyPem, caPem] = await Promise.all([readFirst(files.cert, "certificate"), readFirst(files.key, "private key"), files.ca ? readFirst(files.ca, "CA certificates") : undefined]);
  return caPem === undefined ? { certChainPem, keyPem } : { certChainPem, keyPem, caPem };
}

async function readFirst(paths: readonly string[], what: string): Promise<string> {
  for (const path of paths) {
    try {
      return await platform.readTextFile(path);
    } catch {
      // the next candidate
    }
  }
  throw new Error(`cannot read the ${what}: ${paths.join(" or ")}`);
}

export function dirOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? (at === 0 ? "/" : ".") : path.slice(0, at);
}
