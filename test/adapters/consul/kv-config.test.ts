// Istio YAML from Consul KV entries: only .yaml/.yml keys, every document of a key (UTF-8 from
// base64), broken YAML reported and left out, and a version string that changes only when a key does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kvResources, kvVersion, type KvRead } from "../../../adapters/consul/kv-config.ts";

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));
const entry = (Key: string, text: string | null, ModifyIndex = 1): KvRead => ({ Key, Value: text === null ? null : b64(text), ModifyIndex });

test("every document of every .yaml/.yml key, named by key and position; other keys and empty values ignored", () => {
  const resources = kvResources([
    entry("istio/a.yaml", "kind: VirtualService\nmetadata: { name: ä }\n---\nkind: DestinationRule\n"),
    entry("istio/b.yml", "kind: Gateway\n"),
    entry("istio/notes.txt", "kind: VirtualService\n"),
    entry("istio/empty.yaml", null),
  ]);
  assert.equal(resources.map((r) => r.ref), ["consul:kv/istio/a.yaml#1", "consul:kv/istio/a.yaml#2", "consul:kv/istio/b.yml#1"]);
  assert.equal(resources[0].object, { kind: "VirtualService", metadata: { name: "ä" } });
});

test("a key that is not YAML is logged with its key and left out; the others stay", () => {
  const logs: string[] = [];
  const resources = kvResources([entry("istio/bad.yaml", "kind: [unclosed", 7), entry("istio/good.yaml", "kind: Gateway\n")], (m) => logs.push(m));
  assert.equal(resources.map((r) => r.ref), ["consul:kv/istio/good.yaml#1"]);
  assert.is(logs.length, 1);
  assert.match(logs[0], /kv istio\/bad\.yaml \(ModifyIndex 7\) is not YAML/);
});

test("the version changes when a YAML key is written, added or removed, not for other keys", () => {
  const base = [entry("istio/a.yaml", "x: 1", 3), entry("istio/readme", "hi", 4)];
  assert.is(kvVersion(base), kvVersion([entry("istio/a.yaml", "x: 1", 3), entry("istio/readme", "changed", 9)]));
  assert.is.not(kvVersion(base), kvVersion([entry("istio/a.yaml", "x: 2", 5), entry("istio/readme", "hi", 4)]));
  assert.is.not(kvVersion(base), kvVersion([...base, entry("istio/b.yaml", "y: 1", 6)]));
  assert.is.not(kvVersion(base), kvVersion([entry("istio/readme", "hi", 4)]));
});

test.run();
