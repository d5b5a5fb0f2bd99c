// A real gateway process on a config folder that is edited live: each broken VirtualService is
// rejected whole and the last good config keeps answering; a good edit then goes into service.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const echo = startEcho("shop");
let dir = "";
let gateway: Gateway;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: demo-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [demo.cloud] }]
`;
const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: shop }
spec:
  host: shop.default.svc.cluster.local
  subsets: [{ name: v1, labels: { version: v1 } }]
`;
/** the VirtualService; x-config in the answer tells which edit is in service */
const vs = (config: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: demo }
spec:
  hosts: [demo.cloud]
  gateways: [demo-gateway]
  http:
  - match: [{ uri: { regex: "/shop/[a-z]+" } }]
    headers: { response: { set: { x-config: ${config} } } }
    route:
    - { destination: { host: shop.default.svc.cluster.local, subset: v1 }, weight: 100 }
`;
const GOOD = vs("good-1");

/** each mistake, and the text of the error the gateway must log when it rejects it */
const MISTAKES = [
  { what: "a weight that is not a number", yaml: GOOD.replace("weight: 100", "weight: heavy"), error: 'spec.http[0].route[0].weight: expected a number, got "heavy"' },
  { what: "an unknown subset", yaml: GOOD.replace("subset: v1", "subset: v9"), error: 'subset "v9"' },
  { what: "a regex that does not compile", yaml: GOOD.replace("/shop/[a-z]+", "/shop/[a-z+"), error: 'invalid regex "/shop/[a-z+"' },
  { what: "a look-ahead", yaml: GOOD.replace("/shop/[a-z]+", "/shop/(?=x)[a-z]+"), error: "look-ahead" },
];

async function ask() {
  return curl(["-H", "Host: demo.cloud", `http://${gateway.port80}/shop/books`]);
}

const version = async () => JSON.parse((await curl([`http://${gateway.admin}/config_dump`])).body).version as number;

test.before(async () => {
  dir = await tempConfig({
    "gateway.yaml": GATEWAY,
    "registry.yaml": serviceEntry("shop", "shop.default.svc.cluster.local", [{ address: echo.address, labels: { version: "v1" } }]),
    "rule.yaml": RULE,
    "vs.yaml": GOOD,
  });
  gateway = await startGateway(dir);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
});

test("the first config is in service", async () => {
  const r = await ask();
  assert.is(r.status, 200, r.body);
  assert.is(r.headers["x-echo"], "shop");
  assert.is(r.headers["x-config"], "good-1");
  assert.is(JSON.parse(r.body).headers.host, "demo.cloud");
});

for (const mistake of MISTAKES) {
  test(`${mistake.what}: the change is rejected, the last good config keeps answering`, async () => {
    const rejected = () => gateway.child.lines.filter((l) => /config change rejected/.test(l)).length;
    const before = { rejected: rejected(), lines: gateway.child.lines.length, version: await version() };
    await platform.writeTextFile(`${dir}/vs.yaml`, mistake.yaml);
    // the log holds past rejections too: wait for a new one that names this mistake
    await eventually(async () => rejected() > before.rejected && gateway.child.lines.slice(before.lines).some((l) => l.includes(mistake.error)), 10_000, `rejection of ${mistake.what}`);
    const logged = gateway.child.lines.slice(before.lines).join("\n");
    assert.ok(logged.includes("VirtualService default/demo"), logged);
    assert.ok(logged.includes(`${dir}/vs.yaml`), logged);
    const r = await ask();
    assert.is(r.status, 200, r.body);
    assert.is(r.headers["x-config"], "good-1");
    assert.is(await version(), before.version);
  });
}

test("a good change then goes into service", async () => {
  const before = await version();
  await platform.writeTextFile(`${dir}/vs.yaml`, vs("good-2"));
  const r = await eventually(async () => {
    const r = await ask();
    return r.headers["x-config"] === "good-2" && r;
  }, 10_000, "the good change");
  assert.is(r.status, 200);
  assert.is(r.headers["x-echo"], "shop");
  assert.ok((await version()) > before);
});

test.run();
