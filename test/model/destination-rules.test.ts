// DestinationRule workloadSelector (Istio's): a rule with one applies only to the proxies of its own
// namespace whose labels include matchLabels, and then wins over rules without one for its host;
// a rule without one applies to every proxy, oldest first.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { DestinationRule } from "../../runtime/config/types.ts";
import { indexDestinationRules, ruleApplies } from "../../runtime/model/destination-rules.ts";

const rule = (name: string, namespace: string, created: string, matchLabels?: Record<string, string>): DestinationRule => ({
  apiVersion: "networking.istio.io/v1",
  kind: "DestinationRule",
  metadata: { name, namespace, labels: {}, annotations: {}, creationTimestamp: created },
  spec: { host: "api.example.com", ...(matchLabels ? { workloadSelector: { matchLabels } } : {}) },
  origin: { file: "dr.yaml", document: 0 },
});

const curl = { namespace: "default", labels: { app: "curl", version: "v1" } };
const other = { namespace: "default", labels: { app: "other" } };
const elsewhere = { namespace: "shop", labels: { app: "curl" } };

test("a workloadSelector applies in its own namespace to proxies whose labels include matchLabels", () => {
  const selective = rule("selective", "default", "2026-01-02T00:00:00Z", { app: "curl" });
  assert.ok(ruleApplies(selective, curl));
  assert.not.ok(ruleApplies(selective, other), "labels differ");
  assert.not.ok(ruleApplies(selective, elsewhere), "another namespace");
  assert.not.ok(ruleApplies(selective, undefined), "no proxy to match");
  assert.ok(ruleApplies(rule("all", "default", "2026-01-01T00:00:00Z"), other), "no selector: every proxy");
});

test("the selecting rule wins over an older rule without a selector; other proxies get the catch-all", () => {
  const catchAll = rule("catch-all", "default", "2026-01-01T00:00:00Z");
  const selective = rule("selective", "default", "2026-01-02T00:00:00Z", { app: "curl" });
  assert.is(indexDestinationRules([catchAll, selective], curl).find("api.example.com")?.metadata.name, "selective");
  assert.is(indexDestinationRules([catchAll, selective], other).find("api.example.com")?.metadata.name, "catch-all");
  assert.is(indexDestinationRules([selective], other).find("api.example.com"), undefined, "a rule for other proxies is not this one's");
});

test.run();
