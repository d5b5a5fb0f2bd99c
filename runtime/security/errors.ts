// Every way identity work can fail, with a stable code (jose's pattern): callers switch on `code`,
// and the CA endpoint (ca-http.ts) maps codes to HTTP statuses in one place.

export type SecurityErrorCode =
  | "spiffe-id-invalid" // a string is not a SPIFFE ID (SpiffeIdError says which rule)
  | "pem-invalid" // no PEM block of the expected type, or bad base64
  | "key-unsupported" // a key type dietmesh does not issue for or sign with
  | "csr-invalid" // a CSR that does not parse or whose self-signature is wrong
  | "ca-expired" // the CA cannot sign: its own certificate is expired or not yet valid
  | "ca-dir" // the CA directory is missing a file, or already holds a CA when init is asked
  | "chain-untrusted" // no path from the certificate to a root of the trust bundle
  | "cert-expired" // outside its validity window at the time asked about
  | "svid-invalid" // a certificate that breaks the X.509-SVID rules
  | "token-invalid" // signature, expiry, audience, algorithm or key of a bootstrap token
  | "token-claims" // a valid token that does not name exactly one Kubernetes service account
  | "ca-refused"; // the CA service answered a CSR with an error

export class SecurityError extends Error {
  override name = "SecurityError";
  constructor(
    readonly code: SecurityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
