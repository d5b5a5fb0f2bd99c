// Where a credentialName's material comes from, whichever resource names it (a Gateway server's
// certificate, a DestinationRule's origination CA and client pair): a folder of PEM files laid out as
// Kubernetes mounts Secrets (--credentials-dir, credential-files.ts) or the Secrets themselves,
// watched by name in the proxy's namespace (--registry kubernetes, adapters/kubernetes/secrets.ts).
// Reads are per use (a new connection, a reload), so a replaced credential reaches the next one.

/** PEM texts of one credential; a role is absent when it was not asked for */
export interface CredentialMaterial {
  certChainPem?: string;
  keyPem?: string;
  caPem?: string;
}

/** what a use needs: the certificate and key, and the CA ("optional": absent is no error) */
export interface CredentialWant {
  pair: boolean;
  ca: "required" | "optional" | "none";
}

export interface CredentialSource {
  /** for messages: "folder /etc/creds", "Secrets in namespace istio-system" */
  readonly origin: string;
  /** the credential's material now; rejects with why it cannot be had */
  read(name: string, want: CredentialWant): Promise<CredentialMaterial>;
  /** onChange after the credential (with ca, its NAME-cacert too) may have changed; absent: no push, reads are fresh */
  watch?(name: string, ca: boolean, onChange: () => void): () => void;
  close(): void;
}

/** Istio's convention: a credential's CA may sit in its own Secret, NAME-cacert */
export const CACERT_SUFFIX = "-cacert";

/** a credentialName as a Kubernetes Secret name (also a folder name: no "/", no "..") */
export const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function checkCredentialName(name: string): void {
  if (!SECRET_NAME.test(name) || name.includes("..") || name.length > 253) throw new Error(`credentialName ${JSON.stringify(name)} is not a Secret name`);
}

/**
 * From one Secret's data (keys to PEM texts) and, when the CA is wanted and the Secret has none, the
 * NAME-cacert Secret's: the roles a use asked for, or why not. Keys as Istio reads them: tls.crt /
 * tls.key (or cert / key of a generic Secret), ca.crt (or cacert).
 */
export function materialOf(name: string, own: Record<string, string> | undefined, caSecret: Record<string, string> | undefined, want: CredentialWant, where: string): CredentialMaterial {
  const out: CredentialMaterial = {};
  if (want.pair) {
    if (!own) throw new Error(`credential ${name}: no Secret ${name} ${where}`);
    out.certChainPem = own["tls.crt"] ?? own.cert;
    out.keyPem = own["tls.key"] ?? own.key;
    if (!out.certChainPem || !out.keyPem) throw new Error(`credential ${name}: Secret ${name} ${where} has no tls.crt and tls.key (or cert and key)`);
  }
  if (want.ca !== "none") {
    const ca = own?.["ca.crt"] ?? own?.cacert ?? caSecret?.["ca.crt"] ?? caSecret?.cacert;
    if (ca) out.caPem = ca;
    else if (want.ca === "required") throw new Error(`credential ${name}: no ca.crt (or cacert) in Secret ${name} or ${name}${CACERT_SUFFIX} ${where}`);
  }
  return out;
}
