// DestinationRule connectionPool.http.maxConcurrentStreams and h2UpgradePolicy (issue 12): the
// values dietmesh honours load and reach the pool limits (top level and per port); what it cannot
// honour — a zero stream limit, UPGRADE beside TLS origination — is refused at load with its path.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { formatConfigError } from "../../runtime/config/errors.ts";
import { poolLimits } from "../../runtime/resilience/circuit-breaker.ts";
import { policyFor } from "../../runtime/model/destination-rules.ts";
import { memoryIO } from "./memory-io.ts";

const dr = (policy: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web, namespace: default }
spec:
  host: web.default.svc.cluster.local
  trafficPolicy:
${policy}`;

async function load(yaml: string) {
  return loadConfig(["dr.yaml"], { defaultNamespace: "default", ...memoryIO({ "dr.yaml": yaml }) });
}

async function errors(yaml: string): Promise<string[]> {
  return (await load(yaml)).errors.map(formatConfigError);
}

test("maxConcurrentStreams and every h2UpgradePolicy value load", async () => {
  for (const policy of ["UPGRADE", "DO_NOT_UPGRADE", "DEFAULT"]) {
    assert.equal(await errors(dr(`    connectionPool: { http: { maxConcurrentStreams: 2, h2UpgradePolicy: ${policy} } }\n`)), [], policy);
  }
  // UPGRADE inside the mesh's mTLS is the point of it
  assert.equal(await errors(dr(`    connectionPool: { http: { h2UpgradePolicy: UPGRADE } }\n    tls: { mode: ISTIO_MUTUAL }\n`)), []);
});

test("refused: a zero stream limit, UPGRADE with TLS origination (top level and per port)", async () => {
  const zero = await errors(dr(`    connectionPool: { http: { maxConcurrentStreams: 0 } }\n`));
  assert.is(zero.length, 1, zero.join("\n"));
  assert.match(zero[0], /maxConcurrentStreams/);
  const simple = await errors(dr(`    connectionPool: { http: { h2UpgradePolicy: UPGRADE } }\n    tls: { mode: SIMPLE }\n`));
  assert.is(simple.length, 1, simple.join("\n"));
  assert.match(simple[0], /h2UpgradePolicy UPGRADE with tls mode SIMPLE/);
  assert.match(simple[0], /connectionPool\.http\.h2UpgradePolicy/);
  const perPort = await errors(dr(`    portLevelSettings:\n    - { port: { number: 443 }, connectionPool: { http: { h2UpgradePolicy: UPGRADE } }, tls: { mode: MUTUAL, clientCertificate: c.pem, privateKey: k.pem } }\n`));
  assert.is(perPort.length, 1, perPort.join("\n"));
  assert.match(perPort[0], /tls mode MUTUAL/);
});

test("the pool limits carry them, per port too; unset: the peer's limit, no upgrade", async () => {
  const loaded = await load(dr(`    connectionPool: { http: { maxConcurrentStreams: 7 } }\n    portLevelSettings:\n    - { port: { number: 8080 }, connectionPool: { http: { h2UpgradePolicy: UPGRADE, maxConcurrentStreams: 3 } } }\n`));
  assert.equal(loaded.errors, []);
  const rule = loaded.config!.destinationRules[0];
  const top = poolLimits(policyFor(rule, 9000));
  assert.is(top.maxConcurrentStreams, 7);
  assert.is(top.h2Upgrade, false);
  const port = poolLimits(policyFor(rule, 8080));
  assert.is(port.maxConcurrentStreams, 3);
  assert.is(port.h2Upgrade, true);
  const none = poolLimits({});
  assert.is(none.maxConcurrentStreams, Number.POSITIVE_INFINITY);
  assert.is(none.h2Upgrade, false);
});

test.run();
