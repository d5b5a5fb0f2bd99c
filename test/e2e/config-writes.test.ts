// Real gateways whose config is written the ways that went wrong (issue 15 items 8 and 9): a file
// written in two pieces 300 ms apart, cut at a document boundary, must go into service once and
// whole while the port keeps answering; writes to files that are not the config (the gateway's own
// log, an editor's swap file, another YAML file beside a file given by name) must not move the
// config version.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { appendFile, writeFile } from "node:fs/promises";
import { platform } from "../../runtime/platform/index.ts";
import { curl, eventually, serviceEntry, startEcho, startGateway, stopAll, tempConfig, type Gateway } from "../support/mesh.ts";

const echo = startEcho("shop");
let dir = "";
let fileDir = "";
let folderGateway: Gateway;
let fileGateway: Gateway;

const GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: demo-gateway }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, name: http, protocol: HTTP }, hosts: [demo.cloud] }]
`;
/** x-config in the answer tells which write is in service */
const vs = (config: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: demo }
spec:
  hosts: [demo.cloud]
  gateways: [demo-gateway]
  http:
  - headers: { response: { set: { x-config: ${config} } } }
    route: [{ destination: { host: shop.default.svc.cluster.local } }]
`;
const mesh = (config: string) => `${vs(config)}---\n${GATEWAY}`;
const registry = () => serviceEntry("shop", "shop.default.svc.cluster.local", [{ address: echo.address }]);

const ask = async (g: Gateway) => {
  try {
    const r = await curl(["-H", "Host: demo.cloud", `http://${g.port80}/`]);
    return r.status === 200 ? r.headers["x-config"] : `status ${r.status}`;
  } catch (e) {
    return `failed: ${(e as Error).message.split("\n")[0]}`;
  }
};
const version = async (g: Gateway) => JSON.parse((await curl([`http://${g.admin}/config_dump`])).body).version as number;
const inService = (g: Gateway, config: string) => eventually(async () => (await ask(g)) === config, 10_000, `x-config ${config}`);

test.before(async () => {
  dir = await tempConfig({ "mesh.yaml": `${registry()}---\n${mesh("one")}` });
  folderGateway = await startGateway(dir);
  fileDir = await tempConfig({ "mesh.yaml": `${registry()}---\n${mesh("one")}`, "other.yaml": "" });
  fileGateway = await startGateway(`${fileDir}/mesh.yaml`);
});

test.after(async () => {
  stopAll();
  await echo.server.stop(true);
  await platform.remove(dir);
  await platform.remove(fileDir);
});

test("item 8: a file written in two pieces 300 ms apart goes into service once, whole, and the port never closes", async () => {
  assert.is(await ask(folderGateway), "one");
  const before = await version(folderGateway);
  const file = `${dir}/mesh.yaml`;
  // truncate and write the first document: valid YAML, a config with no Gateway and no route
  await writeFile(file, `${registry()}---\n`);
  // the writer's 300 ms pause, spent probing the port
  const answers: (string | undefined)[] = [];
  const pauseEnds = Date.now() + 300;
  while (Date.now() < pauseEnds) answers.push(await ask(folderGateway));
  await appendFile(file, mesh("two"));
  await inService(folderGateway, "two");
  assert.ok(answers.length > 0);
  assert.equal(answers.filter((a) => a !== "one"), [], "during the pause the gateway answered otherwise");
  assert.is(await version(folderGateway), before + 1, "the first piece went into service on its own");
  assert.not.ok(folderGateway.child.lines.some((l) => /rejected/.test(l)), folderGateway.child.lines.join("\n"));
});

/** writes `name` in the config's folder ten times, 100 ms apart, as a log or an editor would */
async function writeRepeatedly(folder: string, name: string) {
  for (let i = 0; i < 10; i++) {
    await appendFile(`${folder}/${name}`, `line ${i}\n`);
    if (i < 9) await new Promise((r) => setTimeout(r, 100));
  }
}

test("item 9: --config FOLDER — writes to a log file and an editor's dot-file there never make a config version", async () => {
  const before = await version(folderGateway);
  await writeRepeatedly(dir, "gateway.log");
  await writeRepeatedly(dir, ".mesh.yaml.swp");
  // then a real change: it must be the only version since
  await platform.writeTextFile(`${dir}/mesh.yaml`, `${registry()}---\n${mesh("three")}`);
  await inService(folderGateway, "three");
  assert.is(await version(folderGateway), before + 1);
});

test("item 9: --config FILE — writes to any other file in its folder, YAML included, never make a config version", async () => {
  assert.is(await ask(fileGateway), "one");
  const before = await version(fileGateway);
  await writeRepeatedly(fileDir, "gateway.log");
  await writeRepeatedly(fileDir, "other.yaml");
  await platform.writeTextFile(`${fileDir}/mesh.yaml`, `${registry()}---\n${mesh("two")}`);
  await inService(fileGateway, "two");
  assert.is(await version(fileGateway), before + 1);
});

test.run();
