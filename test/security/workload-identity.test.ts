// A workload's identity on a fake clock: obtained from a CSR it signs itself, renewed before 50 %
// + jitter of its life with the new credentials swapped in, and a CA answer that names another
// identity or another key is refused rather than put in service.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRootCa, issueSvid } from "../../runtime/security/ca.ts";
import { generateWorkloadKey } from "../../runtime/security/keys.ts";
import { certificatesToPem } from "../../runtime/security/pem.ts";
import { localSigner } from "../../runtime/security/signers.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { startWorkloadIdentity, type CsrSigner } from "../../runtime/security/workload-identity.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { seededRandom } from "../resilience/seeded-random.ts";

const START = Date.UTC(2030, 0, 1);
const HOUR = 3_600_000;
const clock = createFakeClock(START);
const ca = await createRootCa({ trustDomain: "cluster.local", clock });
const me = SpiffeId.forWorkload("cluster.local", "default", "web");

test("the first certificate names the workload; renewal comes between 40 % and 60 % of the life, and swaps the credentials", async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const issuedAt = clock.now();
    const identity = await startWorkloadIdentity({ signer: localSigner(ca, "default", "web", clock), clock, random: seededRandom(seed), ttlMs: 24 * HOUR, expect: me, onEvent: () => {} });
    assert.is(identity.spiffeId.toString(), me.toString());
    const first = identity.current();
    assert.match(first.keyPem, /BEGIN PRIVATE KEY/);
    assert.is(identity.info().renewals, 0);
    await clock.advanceAsync(issuedAt + 0.4 * 24 * HOUR - clock.now() - 1000);
    assert.is(identity.current(), first, `seed ${seed}: renewed before 40 % of the life`);
    await clock.advanceAsync(issuedAt + 0.6 * 24 * HOUR - clock.now());
    // renewal is async (key generation, signing): let it land
    for (let i = 0; i < 50 && identity.info().renewals === 0; i++) await clock.advanceAsync(0);
    assert.is(identity.info().renewals, 1, `seed ${seed}: not renewed by 60 % of the life`);
    assert.is.not(identity.current(), first);
    assert.is.not(identity.current().keyPem, first.keyPem, "a new key for every certificate");
    assert.ok(identity.info().notAfter > issuedAt + 24 * HOUR, "the new certificate lives past the old one");
    identity.stop();
  }
});

test("a CA answer for another identity is refused", async () => {
  const other = localSigner(ca, "kube-system", "admin", clock);
  try {
    await startWorkloadIdentity({ signer: other, clock, expect: me, onEvent: () => {} });
    assert.unreachable("accepted a certificate for another identity");
  } catch (error) {
    assert.match((error as Error).message, /issued spiffe:\/\/cluster\.local\/ns\/kube-system\/sa\/admin, expected/);
  }
});

test("a CA answer for a key the workload did not make is refused", async () => {
  const stranger = await generateWorkloadKey();
  const wrongKey: CsrSigner = async () => ({
    certChainPem: certificatesToPem([await issueSvid(ca, { spiffeId: me, publicKey: stranger.publicKey, clock })]),
    rootCertPem: certificatesToPem([ca.certificate]),
  });
  try {
    await startWorkloadIdentity({ signer: wrongKey, clock, expect: me, onEvent: () => {} });
    assert.unreachable("accepted a certificate for another key");
  } catch (error) {
    assert.match((error as Error).message, /not for the key/);
  }
});

test("a chain that does not lead to the roots the CA sent is refused", async () => {
  const otherCa = await createRootCa({ trustDomain: "cluster.local", clock });
  const signer = localSigner(ca, "default", "web", clock);
  const mixed: CsrSigner = async (csr, ttl) => ({ ...(await signer(csr, ttl)), rootCertPem: certificatesToPem([otherCa.certificate]) });
  try {
    await startWorkloadIdentity({ signer: mixed, clock, expect: me, onEvent: () => {} });
    assert.unreachable("accepted an unverifiable chain");
  } catch (error) {
    assert.ok(error instanceof Error);
  }
});

test.run();
