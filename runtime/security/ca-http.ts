// The CA's HTTPS API (`dietmesh ca serve`), a small JSON stand-in for Istio's gRPC
// CreateCertificate: POST /v1/certificate with `Authorization: Bearer <token>` and
// {"csr": PEM, "ttlSeconds"?: n} answers {"spiffeId", "certChain": [PEM...], "rootCert": PEM};
// GET /v1/bundle is the trust bundle in the SPIFFE bundle format. One place maps SecurityError
// codes to statuses.
import { Hono } from "hono";
import type { FetchHandler } from "../platform/index.ts";
import type { SpiffeBundleJson } from "./bundle.ts";
import type { CaService } from "./ca-service.ts";
import { SecurityError, type SecurityErrorCode } from "./errors.ts";
import { certificatesFromPem } from "./pem.ts";

const STATUS: Partial<Record<SecurityErrorCode, 400 | 401 | 403 | 503>> = {
  "token-invalid": 401,
  "token-claims": 403,
  "csr-invalid": 400,
  "pem-invalid": 400,
  "key-unsupported": 400,
  "ca-expired": 503,
};

/** CSR bodies are a few hundred bytes; anything much bigger is not a CSR */
const MAX_BODY = 64 * 1024;

export function createCaHandler(service: CaService, bundle: SpiffeBundleJson, log: (line: string) => void = () => {}): FetchHandler {
  const app = new Hono();
  app.get("/v1/bundle", (c) => c.json(bundle));
  app.post("/v1/certificate", async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!token) return c.json({ error: "missing bearer token" }, 401);
    const text = await c.req.text();
    if (text.length > MAX_BODY) return c.json({ error: "request too large" }, 413);
    let body: { csr?: unknown; ttlSeconds?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return c.json({ error: "body is not JSON" }, 400);
    }
    if (typeof body?.csr !== "string") return c.json({ error: "csr (PEM) is required" }, 400);
    const ttlMs = typeof body.ttlSeconds === "number" && body.ttlSeconds > 0 ? body.ttlSeconds * 1000 : undefined;
    try {
      const signed = await service.sign({ token, csrPem: body.csr, ttlMs });
      log(`ca: issued ${signed.spiffeId}`);
      return c.json({ spiffeId: signed.spiffeId.toString(), certChain: certificatesFromPem(signed.certChainPem).map((cert) => cert.toString("pem") + "\n"), rootCert: signed.rootCertPem });
    } catch (error) {
      if (error instanceof SecurityError) {
        log(`ca: refused: ${error.message}`);
        return c.json({ error: error.message }, STATUS[error.code] ?? 400);
      }
      throw error;
    }
  });
  return (request) => app.fetch(request);
}
