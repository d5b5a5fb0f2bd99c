// A renewal must not keep the credentials it replaced alive (issue 15: the soak renews every proxy's
// certificate every minute): after five renewals on a fake clock, the first certificate's
// credentials are collectable once nothing outside the identity holds them.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRootCa } from "../../runtime/security/ca.ts";
import { localSigner } from "../../runtime/security/signers.ts";
import { SpiffeId } from "../../runtime/security/spiffe-id.ts";
import { startWorkloadIdentity, type WorkloadIdentity } from "../../runtime/security/workload-identity.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { seededRandom } from "../resilience/seeded-random.ts";
import { collected } from "../support/gc.ts";

const HOUR = 3_600_000;
const clock = createFakeClock(Date.UTC(2030, 0, 1));
const ca = await createRootCa({ trustDomain: "cluster.local", clock });
const me = SpiffeId.forWorkload("cluster.local", "default", "web");

async function renewals(identity: WorkloadIdentity, n: number): Promise<void> {
  const target = identity.info().renewals + n;
  for (let guard = 0; guard < 200 && identity.info().renewals < target; guard++) await clock.advanceAsync(HOUR);
  assert.is(identity.info().renewals, target, "renewed as often as asked");
}

test("the credentials of a renewed certificate are collectable", async () => {
  const identity = await startWorkloadIdentity({ signer: localSigner(ca, "default", "web", clock), clock, random: seededRandom(1), ttlMs: 24 * HOUR, expect: me, onEvent: () => {} });
  const first = new WeakRef(identity.current());
  await renewals(identity, 5);
  assert.ok(await collected(first), "the first credentials are still reachable after five renewals");
  identity.stop();
});

test("the check can fail: credentials still in service are not collected", async () => {
  const identity = await startWorkloadIdentity({ signer: localSigner(ca, "default", "web", clock), clock, random: seededRandom(2), ttlMs: 24 * HOUR, expect: me, onEvent: () => {} });
  assert.not.ok(await collected(new WeakRef(identity.current())));
  identity.stop();
});

test.run();
