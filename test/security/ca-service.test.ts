// The CA's request path: the identity comes from the caller's token, never from the CSR; no valid
// token, no certificate; requested lifetimes are capped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createCaService } from "../../runtime/security/ca-service.ts";
import { createRootCa } from "../../runtime/security/ca.ts";
import { createCsr, generateWorkloadKey, generateKeyPair, privateKeyToPem } from "../../runtime/security/keys.ts";
import { certificatesFromPem } from "../../runtime/security/pem.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { issueBootstrapToken, loadTokenSigningKey } from "../../runtime/security/tokens.ts";
import { verifySvid } from "../../runtime/security/verify.ts";
import { x509 } from "../../runtime/security/x509-lib.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";

const START = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const clock = createFakeClock(START);
const ca = await createRootCa({ trustDomain: "cluster.local", clock });
const tokenKey = await loadTokenSigningKey(await privateKeyToPem((await generateKeyPair()).privateKey));
const service = createCaService({ ca, auth: { localKeys: tokenKey.jwks, audience: "istio-ca", clock }, maxTtlMs: 48 * HOUR });
const sleepToken = await issueBootstrapToken(tokenKey, { namespace: "default", serviceAccount: "sleep", clock });

test("a CSR claiming another identity yields a certificate for the caller's identity", async () => {
  const keys = await generateWorkloadKey();
  const claimed = SpiffeId.forWorkload("cluster.local", "istio-system", "istiod");
  const csrPem = (await createCsr(keys, claimed)).toString("pem");
  const response = await service.sign({ token: sleepToken, csrPem });
  const expected = SpiffeId.forWorkload("cluster.local", "default", "sleep");
  assert.ok(response.spiffeId.equals(expected));
  const [leaf] = certificatesFromPem(response.certChainPem);
  const uris = leaf.getExtension(x509.SubjectAlternativeNameExtension)!.names.items.map((n) => n.value);
  assert.equal(uris, [expected.toString()]);
  assert.not.ok(response.certChainPem.includes(claimed.toString()));
  const bundle = { trustDomain: "cluster.local", roots: certificatesFromPem(response.rootCertPem) };
  assert.ok((await verifySvid(response.certChainPem, bundle, { clock })).equals(expected));
});

test("no valid token, no certificate — whatever the CSR says", async () => {
  const csrPem = (await createCsr(await generateWorkloadKey())).toString("pem");
  const other = await loadTokenSigningKey(await privateKeyToPem((await generateKeyPair()).privateKey));
  for (const token of ["", "garbage", await issueBootstrapToken(other, { namespace: "default", serviceAccount: "sleep", clock })]) {
    try {
      await service.sign({ token, csrPem });
      assert.unreachable("signed without authentication");
    } catch (e) {
      assert.is((e as { code?: string }).code, "token-invalid");
    }
  }
});

test("a bad CSR from an authenticated caller is refused", async () => {
  try {
    await service.sign({ token: sleepToken, csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n" });
    assert.unreachable("signed a broken CSR");
  } catch (e) {
    assert.is((e as { code?: string }).code, "csr-invalid");
  }
});

test("requested lifetime: default 24 h, capped at maxTtlMs", async () => {
  const csrPem = (await createCsr(await generateWorkloadKey())).toString("pem");
  const life = async (ttlMs?: number) => {
    const [leaf] = certificatesFromPem((await service.sign({ token: sleepToken, csrPem, ttlMs })).certChainPem);
    return leaf.notAfter.getTime() - clock.now();
  };
  assert.is(await life(), 24 * HOUR);
  assert.is(await life(2 * HOUR), 2 * HOUR);
  assert.is(await life(1000 * HOUR), 48 * HOUR);
});

test.run();
