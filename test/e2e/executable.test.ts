// End to end, the single executable (`npm run build`): built with the package's own build script
// into a temp folder, copied alone into an empty folder (no node_modules, no TypeScript, no runtime
// on PATH beside it), it answers --version, makes a CA, and serves the hello-istio demo's routes
// (its unmodified Gateway, DestinationRule and VirtualService) through a gateway.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import { curl, root, serviceEntry, showcase, startEcho, tempConfig } from "../support/mesh.ts";

const app = startEcho("hello-v1");
let work: string;
let exe: string;
const children: Child[] = [];

test.before(async () => {
  work = await platform.makeTempDir("dietmesh-exe-");
  const pkg = JSON.parse(await platform.readTextFile(`${root}package.json`));
  const script: string = pkg.scripts.build;
  assert.match(script, /dist\/dietmesh/);
  // the build script as written, with the output moved out of the checkout
  const [cmd, ...args] = script.replace("dist/dietmesh", `${work}/build/dietmesh`).split(" ");
  const build = runCommand(cmd === "bun" ? `${root}node_modules/.bin/bun` : cmd, args, { cwd: root });
  assert.is(await build.exited, 0, build.lines.join("\n"));
  await platform.mkdir(`${work}/alone`);
  exe = `${work}/alone/dietmesh`;
  const copy = runCommand("cp", [`${work}/build/dietmesh`, exe]);
  assert.is(await copy.exited, 0);
});

test.after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await app.server.stop(true);
  await platform.remove(work);
});

/** runs the executable from its own empty folder with a PATH that holds no bun, deno or node */
function runExe(args: string[]): Child {
  const child = runCommand(exe, args, { cwd: `${work}/alone`, env: { PATH: "/usr/bin:/bin", HOME: work } });
  children.push(child);
  return child;
}

test("--version names the package version and the runtime compiled in", async () => {
  const child = runExe(["--version"]);
  assert.is(await child.exited, 0);
  const pkg = JSON.parse(await platform.readTextFile(`${root}package.json`));
  assert.match(child.lines.join("\n"), new RegExp(`^dietmesh ${pkg.version.replaceAll(".", "\\.")} \\(bun \\d+\\.\\d+\\.\\d+\\)$`));
});

test("`ca init` works from the executable (the X.509 code is inside it)", async () => {
  const child = runExe(["ca", "init", "--dir", `${work}/ca`]);
  assert.is(await child.exited, 0, child.lines.join("\n"));
  assert.ok((await platform.readTextFile(`${work}/ca/root-cert.pem`)).includes("BEGIN CERTIFICATE"));
});

test("the gateway serves the hello-istio demo's routes from the executable alone", async () => {
  const entry = serviceEntry("hello-istio", "hello-istio.default.svc.cluster.local", [{ address: app.address, labels: { app: "hello-istio", version: "v1" } }]);
  const config = await tempConfig({ "hello.yaml": entry });
  for (const file of ["hello-istio-gateway.yaml", "hello-istio-destination.yaml", "hello-istio-v1.yaml"]) {
    await platform.writeTextFile(`${config}/${file}`, await platform.readTextFile(showcase(`hello-istio/${file}`)));
  }
  const gateway = runExe(["gateway", "--config", config, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  const [, port80] = await gateway.waitFor(/gateway port 80 listening on (\S+)/);
  await gateway.waitFor(/ready on /);
  const r = await curl(["-H", "Host: hello-istio.cloud", `http://${port80}/api/hello`]);
  assert.is(r.status, 200, r.body);
  assert.is(JSON.parse(r.body).name, "hello-v1");
  await platform.remove(config);
});

test("the demo apps run from the executable alone (the Kubernetes demo's containers: demo-app …)", async () => {
  const hello = runExe(["demo-app", "hello-istio", "--port", "0", "--version", "7.7.7"]);
  const [, address] = await hello.waitFor(/hello-istio 7\.7\.7 listening on (\S+)/);
  const r = await curl([`http://${address}/api/hello`]);
  assert.is(JSON.parse(r.body).version, "7.7.7");
  hello.kill("SIGKILL");
  const wrong = runExe(["demo-app", "nope"]);
  assert.is(await wrong.exited, 2);
});

test.run();
