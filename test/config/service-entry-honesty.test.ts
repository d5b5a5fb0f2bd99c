// ServiceEntry fields dietmesh cannot honour are refused at load with their path (honest config):
// resolution NONE without endpoints on a wildcard host (and targetPort there), wildcard DNS hosts
// without endpoints (Istio's own rule), address ranges (a VIP is a name apps call; a range is not), port
// protocols it does not carry (UDP, by protocol or by port name) or Istio does not know (THRIFT).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadResources } from "../../runtime/config/load-resources.ts";

const entry = (spec: Record<string, unknown>, name = "ext") => ({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name, namespace: "default" }, spec });
const http = { number: 80, name: "http", protocol: "HTTP" };

/** [path, message] of each error */
function errors(...objects: unknown[]): [string | undefined, string][] {
  return loadResources(objects, "default").errors.map((e) => {
    assert.is(e.kind, "ServiceEntry");
    assert.ok(e.file.startsWith("resources["), e.file);
    return [e.path, e.message];
  });
}

test("NONE (the default) without endpoints: a named host loads; a wildcard is refused with its path", () => {
  assert.equal(errors(entry({ hosts: ["api.example.com", "127.0.0.1"], ports: [http] })), []);
  const got = errors(entry({ hosts: ["ok.example.com", "*.example.com"], location: "MESH_EXTERNAL", ports: [http] }));
  assert.equal(got.map(([path]) => path), ["spec.hosts[1]"]);
  assert.match(got[0][1], /"\*\.example\.com" with resolution NONE .*no endpoints.*List the hosts by name/);
});

test("NONE with a workloadSelector may name a wildcard host: its WorkloadEntries are the endpoints", () => {
  assert.equal(errors(entry({ hosts: ["*.vm.example"], ports: [http], workloadSelector: { labels: { app: "vm" } } })), []);
});

test("NONE without endpoints: targetPort is refused (the request names the port)", () => {
  const got = errors(entry({ hosts: ["api.example.com"], ports: [{ ...http, targetPort: 8080 }] }));
  assert.equal(got.map(([path]) => path), ["spec.ports[0].targetPort"]);
  assert.match(got[0][1], /original destination port/);
  assert.equal(errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: [{ ...http, targetPort: 8080 }] })), [], "DNS honours it");
});

test("DNS and DNS_ROUND_ROBIN without endpoints need names, as Istio says", () => {
  for (const resolution of ["DNS", "DNS_ROUND_ROBIN"]) {
    const got = errors(entry({ hosts: ["*.example.com"], resolution, ports: [http] }));
    assert.equal(got.map(([path]) => path), ["spec.hosts[0]"], resolution);
    assert.match(got[0][1], /hosts must be FQDN if no endpoints are provided/);
  }
  assert.equal(errors(entry({ hosts: ["*.example.com"], resolution: "DNS", ports: [http], endpoints: [{ address: "lb.example.com" }] })), []);
});

test("NONE with endpoints stays refused, as Istio refuses it", () => {
  const got = errors(entry({ hosts: ["api.example.com"], ports: [http], endpoints: [{ address: "10.0.0.1" }] }));
  assert.equal(got.map(([path]) => path), ["spec.endpoints"]);
});

test("addresses (VIPs): single addresses load (names an app may call the service by); a range is refused with its path", () => {
  const tcp = { number: 5432, name: "tcp", protocol: "TCP" };
  assert.equal(errors(entry({ hosts: ["db.example.com"], addresses: ["10.0.0.5", "10.0.0.6/32", "fd00::7", "fd00::8/128"], resolution: "STATIC", ports: [tcp], endpoints: [{ address: "10.0.0.6" }] })), []);
  const got = errors(entry({ hosts: ["db.example.com"], addresses: ["10.0.0.5", "192.0.2.0/24", "db"], resolution: "STATIC", ports: [tcp], endpoints: [{ address: "10.0.0.6" }] }));
  assert.equal(got.map(([path]) => path), ["spec.addresses[1]", "spec.addresses[2]"]);
  assert.match(got[0][1], /address range 192\.0\.2\.0\/24 is not supported.*captures no traffic/);
  assert.match(got[1][1], /expected an IP address, got "db"/);
});

test("port protocols: what dietmesh carries loads, in any case; UDP and unknown ones are refused with their path", () => {
  const carried = ["HTTP", "http2", "GRPC", "grpc-web", "HTTP_PROXY", "HTTPS", "TLS", "TCP", "MONGO", "REDIS", "MYSQL"];
  assert.equal(errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: carried.map((protocol, i) => ({ number: 1000 + i, name: `p${i}`, protocol })) })), []);
  const got = errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: [http, { number: 53, name: "dns", protocol: "UDP" }, { number: 9090, name: "rpc", protocol: "THRIFT" }, { number: 5353, name: "udp-mdns" }, { number: 5354, name: "udpish" }] }));
  assert.equal(got.map(([path]) => path), ["spec.ports[1].protocol", "spec.ports[2].protocol"], "the fields first, then the rules");
  assert.match(got[0][1], /protocol UDP is not supported by dietmesh/);
  assert.match(got[1][1], /expected a protocol dietmesh serves \(HTTP, .*TLS\), got "THRIFT"/);
  const named = errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: [{ number: 5353, name: "udp-mdns" }, { number: 5354, name: "udpish" }, { number: 5355, name: "udp-x", protocol: "TCP" }] }));
  assert.equal(named.map(([path]) => path), ["spec.ports[0].name"], "the name declares only when protocol is left out");
  assert.match(named[0][1], /port name "udp-mdns" declares UDP/);
});

test("GRPC-WEB loads, by protocol or by port name: the gateway translates gRPC-Web and the port's cluster speaks HTTP/2, as Istio's", () => {
  assert.equal(errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: [{ number: 8080, name: "web", protocol: "grpc-web" }, { number: 8081, name: "w2", protocol: "GRPC-WEB" }] })), []);
  assert.equal(errors(entry({ hosts: ["api.example.com"], resolution: "DNS", ports: [{ number: 8081, name: "grpc-web-ui" }, { number: 8082, name: "grpc-x" }, { number: 8083, name: "grpc-web", protocol: "HTTP" }] })), []);
});

test.run();
