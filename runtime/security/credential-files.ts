// Where a Gateway server's certificate, key and CA, and a DestinationRule's origination CA and client
// pair, come from on disk: the files a tls block names (serverCertificate, privateKey, caCertificates;
// clientCertificate, privateKey, caCertificates), or, for credentialName, a folder of credentials
// laid out as Kubernetes mounts Secrets (--credentials-dir DIR): DIR/<name>/tls.crt and tls.key
// (or the generic-secret keys cert and key), and the client CA in DIR/<name>/ca.crt (or cacert), else
// in DIR/<name>-cacert/ — Istio's convention for keeping the CA in its own Secret.
import { platform } from "../platform/index.ts";
import { CACERT_SUFFIX, checkCredentialName, materialOf, type CredentialMaterial, type CredentialSource } from "./credential-source.ts";

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

export function filesOf(tls: { serverCertificate?: string; privateKey?: string; caCertificates?: string }, wantCa: boolean): CredentialFiles {
  const cert = [tls.serverCertificate!];
  const key = [tls.privateKey!];
  const ca = wantCa && tls.caCertificates ? [tls.caCertificates] : undefined;
  return { cert, key, ca, dirs: [...new Set([...cert, ...key, ...(ca ?? [])].map(dirOf))] };
}

/** DIR/<name>/…; throws for a name that is not a Secret name */
export function credentialFiles(dir: string, name: string, wantCa: boolean): CredentialFiles {
  checkCredentialName(name);
  const own = `${dir}/${name}`;
  const separate = `${dir}/${name}${CACERT_SUFFIX}`;
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

/** a DestinationRule's tls block, SIMPLE or MUTUAL: the fields that say where its material is */
export interface OriginationFiles {
  mode?: string;
  caCertificates?: string;
  clientCertificate?: string;
  privateKey?: string;
  credentialName?: string;
}

/**
 * TLS origination's material, read at each call (one per connection, so renewed files and replaced
 * credentials reach new connections without a watch): the credentialName's from the proxy's source
 * (SIMPLE: its CA, required; MUTUAL: its client pair, and its CA when it has one), else the named
 * files (MUTUAL: the client pair too). No CA: the runtime's roots judge the server.
 */
export function originationMaterial(tls: OriginationFiles, source: CredentialSource | undefined): () => Promise<CredentialMaterial> {
  const mutual = tls.mode === "MUTUAL";
  const name = tls.credentialName;
  if (name !== undefined) {
    return async () => {
      // no source: refused at start (cli/credential-setup.ts); a later config gets a failed connect, never plaintext
      if (!source) throw new Error(`credentialName ${name}: this proxy has no credential source (--credentials-dir DIR or --registry kubernetes)`);
      return source.read(name, mutual ? { pair: true, ca: "optional" } : { pair: false, ca: "required" });
    };
  }
  const read = (path: string | undefined) => (path ? platform.readTextFile(path) : Promise.resolve(undefined));
  return async () => {
    const [caPem, certChainPem, keyPem] = await Promise.all([read(tls.caCertificates), read(mutual ? tls.clientCertificate : undefined), read(mutual ? tls.privateKey : undefined)]);
    return { caPem, certChainPem, keyPem };
  };
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

/**
 * --credentials-dir as a credential source, for DestinationRule origination: every read goes to the
 * files (one per connection), so a replaced file is used by the next connection without a watch.
 */
export function folderCredentials(dir: string): CredentialSource {
  const keysOf = async (folder: string, keys: readonly string[]): Promise<Record<string, string>> => {
    const texts = await Promise.all(keys.map((key) => platform.readTextFile(`${folder}/${key}`).catch(() => undefined)));
    return Object.fromEntries(keys.flatMap((key, i) => (texts[i] === undefined ? [] : [[key, texts[i]!]])));
  };
  return {
    origin: `folder ${dir}`,
    async read(name, want) {
      checkCredentialName(name);
      const caKeys = want.ca === "none" ? [] : ["ca.crt", "cacert"];
      const [own, separate] = await Promise.all([
        keysOf(`${dir}/${name}`, [...(want.pair ? ["tls.crt", "tls.key", "cert", "key"] : []), ...caKeys]),
        caKeys.length ? keysOf(`${dir}/${name}${CACERT_SUFFIX}`, caKeys) : Promise.resolve(undefined),
      ]);
      return materialOf(name, own, separate, want, `in ${dir}`);
    },
    close() {},
  };
}
