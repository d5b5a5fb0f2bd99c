// The CA's directory and a workload's certificate directory, with Istio's file names so anything
// that reads Istio's output (Envoy's SDS file config, scripts, openssl) reads ours unchanged.
// The X.509 library (ca.ts, pem.ts) and jose (tokens.ts) are imported where used, so a proxy that
// only reads the directory (readCaDir, for --ca-dir) loads neither.
import { platform } from "../platform/index.ts";
import type { CertificateAuthority } from "./ca.ts";
import { SecurityError } from "./errors.ts";
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, signingAlgorithm, type KeyType } from "./keys.ts";
import type { TokenSigningKey } from "./tokens.ts";
import type { Clock } from "../lib/clock.ts";

export const CA_FILES = { rootCert: "root-cert.pem", rootKey: "root-key.pem", tokenKey: "token-key.pem", config: "ca.json" } as const;
/** Istio's names for a workload's files (PKCS#8 key) */
export const SVID_FILES = { certChain: "cert-chain.pem", key: "key.pem", rootCert: "root-cert.pem" } as const;
/** private keys are readable by their owner only, from the moment they exist */
const SECRET = { mode: 0o600 };

export interface CaDir {
  ca: CertificateAuthority;
  tokenKey: TokenSigningKey;
}

export interface InitOptions {
  trustDomain: string;
  keyType: KeyType;
  clock: Pick<Clock, "now">;
}

/** makes a new CA in dir; refuses to overwrite one, since that would orphan every issued cert */
export async function initCaDir(dir: string, options: InitOptions): Promise<CaDir> {
  const existing = await platform.readDir(dir).catch(() => [] as string[]);
  if (existing.includes(CA_FILES.rootKey)) throw new SecurityError("ca-dir", `${dir} already holds a CA (${CA_FILES.rootKey}); remove it first to start over`);
  const [{ createRootCa }, { certificatesToPem }, { loadTokenSigningKey }] = await Promise.all([import("./ca.ts"), import("./pem.ts"), import("./tokens.ts")]);
  const ca = await createRootCa(options);
  const tokenPair = await generateKeyPair("ec-p256", true);
  const tokenPem = await privateKeyToPem(tokenPair.privateKey);
  await platform.mkdir(dir);
  await platform.writeTextFile(`${dir}/${CA_FILES.rootKey}`, await privateKeyToPem(ca.privateKey), SECRET);
  await platform.writeTextFile(`${dir}/${CA_FILES.tokenKey}`, tokenPem, SECRET);
  await platform.writeTextFile(`${dir}/${CA_FILES.rootCert}`, certificatesToPem([ca.certificate]));
  await platform.writeTextFile(`${dir}/${CA_FILES.config}`, JSON.stringify({ trustDomain: options.trustDomain, keyType: options.keyType }, null, 2) + "\n");
  // keep only a non-extractable copy of the root key in memory
  return { ca: { ...ca, privateKey: await privateKeyFromPem(await privateKeyToPem(ca.privateKey)) }, tokenKey: await loadTokenSigningKey(tokenPem) };
}

export async function loadCaDir(dir: string): Promise<CaDir> {
  const [{ certificatesFromPem }, { loadTokenSigningKey }] = await Promise.all([import("./pem.ts"), import("./tokens.ts")]);
  const { trustDomain, certificate, privateKey, read } = await readCaDir(dir, certificatesFromPem, (c) => c.publicKey.export());
  return { ca: { trustDomain, certificate, privateKey }, tokenKey: await loadTokenSigningKey(await read(CA_FILES.tokenKey)) };
}

/**
 * The CA directory's trust domain, root certificate (parsed by `parse`) and root key, checked in
 * this order with these errors; `read` reads another file of it with the same error.
 */
export async function readCaDir<C>(
  dir: string,
  parse: (pem: string) => C[],
  publicKeyOf: (certificate: C) => Promise<CryptoKey>,
): Promise<{ trustDomain: string; certificate: C; privateKey: CryptoKey; read: (name: string) => Promise<string> }> {
  const read = (name: string) =>
    platform.readTextFile(`${dir}/${name}`).catch((cause) => {
      throw new SecurityError("ca-dir", `cannot read ${dir}/${name} (run dietmesh ca init --dir ${dir}?)`, { cause });
    });
  let config: { trustDomain?: unknown };
  try {
    config = JSON.parse(await read(CA_FILES.config));
  } catch (cause) {
    if (cause instanceof SecurityError) throw cause;
    throw new SecurityError("ca-dir", `${dir}/${CA_FILES.config} is not JSON`, { cause });
  }
  if (typeof config?.trustDomain !== "string") throw new SecurityError("ca-dir", `${dir}/${CA_FILES.config} names no trustDomain`);
  const [certificate] = parse(await read(CA_FILES.rootCert));
  if (!certificate) throw new SecurityError("pem-invalid", `${dir}/${CA_FILES.rootCert} holds no certificate`);
  const privateKey = await privateKeyFromPem(await read(CA_FILES.rootKey));
  await checkKeyMatches(privateKey, await publicKeyOf(certificate));
  return { trustDomain: config.trustDomain, certificate, privateKey, read };
}

/** a swapped or stale key file would sign certificates nobody can verify; catch it at load */
async function checkKeyMatches(privateKey: CryptoKey, publicKey: CryptoKey): Promise<void> {
  const probe = new TextEncoder().encode("dietmesh ca key check");
  const alg = { ...signingAlgorithm(privateKey), hash: "SHA-256" };
  const signature = await crypto.subtle.sign(alg, privateKey, probe);
  const ok = publicKey.algorithm.name === privateKey.algorithm.name && (await crypto.subtle.verify(alg, publicKey, signature, probe).catch(() => false));
  if (!ok) throw new SecurityError("ca-dir", `${CA_FILES.rootKey} does not belong to ${CA_FILES.rootCert}`);
}

export interface SvidFiles {
  certChainPem: string;
  keyPem: string;
  rootCertPem: string;
}

export async function writeSvidFiles(dir: string, files: SvidFiles): Promise<void> {
  await platform.mkdir(dir);
  await platform.writeTextFile(`${dir}/${SVID_FILES.key}`, files.keyPem, SECRET);
  await platform.writeTextFile(`${dir}/${SVID_FILES.certChain}`, files.certChainPem);
  await platform.writeTextFile(`${dir}/${SVID_FILES.rootCert}`, files.rootCertPem);
}
