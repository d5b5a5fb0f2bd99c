// Consul answers → the canonical model: labels from tags and Meta, hosts, the node-address
// fallback, the passing filter; and where the registry's options come from.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { consulHosts, consulLabels, consulProtocol, consulServices, type HealthEntry } from "../../../adapters/consul/convert.ts";
import { consulOptionsFrom, ConsulConfigError } from "../../../adapters/consul/options.ts";
import { endpointPort } from "../../../adapters/static/endpoint-port.ts";

function entry(id: string, node: string, nodeAddress: string, service: Partial<HealthEntry["Service"]>, status = "passing"): HealthEntry {
  return {
    Node: { Node: node, Address: nodeAddress, Datacenter: "dc1" },
    Service: { ID: id, Service: "reviews", Port: 9080, ...service },
    Checks: [{ Status: "passing" }, { Status: status }],
  };
}

test("labels: key=value and key|value tags, bare tags as \"true\", Meta wins", () => {
  assert.equal(consulLabels(["canary", "version=v0", "zone|eu", "=odd", "team=a=b"], { version: "v1" }), {
    canary: "true", version: "v1", zone: "eu", team: "a=b",
  });
  assert.equal(consulLabels(null, null), {});
});

test("hosts: <name>.service.consul, with a datacenter also <name>.service.<dc>.consul, and the bare name", () => {
  assert.equal(consulHosts("Reviews"), ["reviews.service.consul", "reviews"]);
  assert.equal(consulHosts("reviews", "DC1"), ["reviews.service.consul", "reviews.service.dc1.consul", "reviews"]);
});

test("protocol from Meta.protocol, HTTP otherwise", () => {
  assert.is(consulProtocol({ protocol: "grpc" }), "GRPC");
  assert.is(consulProtocol({ protocol: "mongo" }), "HTTP");
  assert.is(consulProtocol(undefined), "HTTP");
});

test("services: one per host, passing instances only, node address fallback, sorted, frozen", () => {
  const services = consulServices("reviews", [
    entry("r2", "node-b", "192.168.0.2", { Address: "", Meta: { version: "v2" }, Port: 9081, Weights: { Passing: 3, Warning: 1 } }),
    entry("r1", "node-a", "192.168.0.1", { Address: "10.0.0.1", Tags: ["canary"], Meta: { version: "v1" } }),
    entry("r3", "node-c", "192.168.0.3", { Address: "10.0.0.3" }, "critical"),
  ], { datacenter: "dc1" });
  assert.equal(services.map((s) => s.hostname), ["reviews.service.consul", "reviews.service.dc1.consul", "reviews"]);
  const [svc] = services;
  assert.is(svc.source, "consul");
  assert.is(svc.namespace, "default");
  assert.is(svc.location, "MESH_INTERNAL");
  assert.equal(svc.ports, [{ name: "http", number: 80, protocol: "HTTP" }]);
  assert.equal(svc.endpoints.map((e) => `${e.address}:${endpointPort(e, svc.ports[0])}`), ["10.0.0.1:9080", "192.168.0.2:9081"]);
  assert.equal(svc.endpoints[0].labels, { canary: "true", version: "v1" });
  assert.is(svc.endpoints[0].weight, undefined, "the default weight 1 is left out");
  assert.is(svc.endpoints[1].weight, 3);
  assert.ok(svc.endpoints.every((e) => e.ready));
  assert.is(services[2].endpoints, svc.endpoints, "all names share one endpoint list");
  for (const v of [svc, svc.ports[0], svc.endpoints[0], svc.endpoints[0].labels]) assert.ok(Object.isFrozen(v));
  assert.equal(consulServices("empty", [])[0].endpoints, [], "a service with no healthy instance stays, empty");
});

test("options: URL, then CONSUL_HTTP_ADDR, then the default; token and namespace from the environment", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(consulOptionsFrom(undefined, env({})), { address: "http://127.0.0.1:8500" });
  assert.equal(consulOptionsFrom(undefined, env({ CONSUL_HTTP_ADDR: "consul.local:8501", CONSUL_HTTP_SSL: "true", CONSUL_HTTP_TOKEN: "s3cr3t" })), {
    address: "https://consul.local:8501", token: "s3cr3t",
  });
  assert.equal(consulOptionsFrom("http://10.0.0.9:8500/?dc=east&ns=team", env({ CONSUL_HTTP_ADDR: "ignored:1", CONSUL_NAMESPACE: "other" })), {
    address: "http://10.0.0.9:8500", datacenter: "east", namespace: "team",
  });
  assert.is(consulOptionsFrom("10.0.0.9:8500", env({ CONSUL_NAMESPACE: "ops" })).namespace, "ops");
  assert.throws(() => consulOptionsFrom("unix:///var/run/consul.sock", env({})), (e: Error) => e instanceof ConsulConfigError && /not supported/.test(e.message));
  assert.throws(() => consulOptionsFrom("http://h:8500?token=x", env({})), /CONSUL_HTTP_TOKEN/);
  assert.throws(() => consulOptionsFrom("http://[bad", env({})), /not an address/);
});

test.run();
