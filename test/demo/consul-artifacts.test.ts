// demo/consul cannot rot: the systemd units' command lines use flags the sidecar and `dietmesh
// wait` take (read from their --help), every ${VAR} they use is set, the app unit waits for the
// sidecar and proxies through it, the Consul service definitions are what `consul services
// register` reads and match the unit, and `dietmesh check` accepts the Istio YAML.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, root, tempConfig } from "../support/mesh.ts";
import { checkArgs, commandFlags } from "./cli-flags.ts";

const dir = `${root}demo/consul/`;

interface Unit {
  sections: Record<string, Record<string, string[]>>;
  env: Record<string, string>;
}

/** a systemd unit: sections of key → values (continuation lines joined), Environment= parsed */
async function readUnit(name: string): Promise<Unit> {
  const text = (await platform.readTextFile(`${dir}${name}`)).replace(/\\\n\s*/g, " ");
  const sections: Unit["sections"] = {};
  let current = "";
  for (const line of text.split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      current = header[1];
      sections[current] = {};
      continue;
    }
    const eq = line.indexOf("=");
    assert.ok(eq > 0 && current, `${name}: "${line}"`);
    (sections[current][line.slice(0, eq)] ??= []).push(line.slice(eq + 1).trim());
  }
  const env: Record<string, string> = {};
  for (const assignments of sections.Service?.Environment ?? []) {
    for (const word of assignments.split(/\s+/)) env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
  }
  return { sections, env };
}

/** a command line's words with ${VAR} replaced as systemd does; every variable must be set */
function words(command: string, env: Record<string, string>, what: string): string[] {
  return command.split(/\s+/).map((w) =>
    w.replace(/\$\{(\w+)\}/g, (_, name) => {
      assert.ok(name in env, `${what}: \${${name}} is not set by an Environment= line`);
      return env[name];
    }),
  );
}

/** the args after `main.ts <command>`; the entry point and script paths must exist in the repo */
async function dietmeshArgs(line: string[], command: string, what: string): Promise<string[]> {
  const main = line.findIndex((w) => w.endsWith("/runtime/cli/main.ts"));
  assert.ok(main > 0, `${what}: runs ${line.join(" ")}`);
  assert.match(line[0], /^\/opt\/dietmesh\/node_modules\/\.bin\/bun$/);
  assert.ok(await platform.readTextFile(line[main].replace("/opt/dietmesh/", root)), "runtime/cli/main.ts is where the unit says");
  assert.is(line[main + 1], command, what);
  return line.slice(main + 2);
}

const sidecarUnit = await readUnit("dietmesh-sidecar.service");
const appUnit = await readUnit("hello-istio.service");
const sidecarLine = words(sidecarUnit.sections.Service.ExecStart[0], sidecarUnit.env, "dietmesh-sidecar.service");
const sidecar = checkArgs(await dietmeshArgs(sidecarLine, "sidecar", "ExecStart"), await commandFlags("sidecar"), "dietmesh-sidecar.service ExecStart");
const one = (flag: string) => {
  assert.is(sidecar.get(flag)?.length, 1, `--${flag} once`);
  return sidecar.get(flag)![0];
};

test("the sidecar unit: flags the sidecar takes; Consul registry and registration; identity from the CA", () => {
  assert.match(one("registry"), /^consul=http:\/\/127\.0\.0\.1:8500$/);
  assert.is(one("consul-register"), "http://127.0.0.1:8500");
  assert.match(one("ca"), /^https:\/\//);
  assert.ok(one("ca-root").startsWith("/etc/dietmesh/") && one("token").startsWith("/etc/dietmesh/"));
  assert.is(one("app"), "127.0.0.1:8080", "the app listens on loopback only");
  assert.is(one("labels"), "app=hello-istio,version=v1");
  assert.is(one("service-account"), "hello-istio");
  assert.equal(sidecarUnit.sections.Service.KillSignal, ["SIGTERM"], "SIGTERM drains and deregisters");
});

test("the app unit starts after `dietmesh wait` on the sidecar's admin address and calls out through it", async () => {
  assert.ok(appUnit.sections.Unit.Requires.includes("dietmesh-sidecar.service"));
  assert.ok(appUnit.sections.Unit.After.includes("dietmesh-sidecar.service"));
  const pre = words(appUnit.sections.Service.ExecStartPre[0], appUnit.env, "hello-istio.service ExecStartPre");
  const wait = checkArgs(await dietmeshArgs(pre, "wait", "ExecStartPre"), await commandFlags("wait"), "hello-istio.service ExecStartPre");
  assert.equal(wait.get("admin"), [one("admin")]);
  assert.is(appUnit.env.HTTP_PROXY, `http://${one("outbound")}`);
  assert.is(appUnit.env.http_proxy, appUnit.env.HTTP_PROXY);
  const start = words(appUnit.sections.Service.ExecStart[0], appUnit.env, "hello-istio.service ExecStart");
  assert.ok(await platform.readTextFile(start[1].replace("/opt/dietmesh/", root)), "the app's script is where the unit says");
  assert.equal(start.slice(2), ["--port", one("app").split(":")[1], "--version", "1.0.1"]);
});

test("the Consul service definitions: hello-istio v1/v2 on the sidecar's inbound port, checked by its readiness", async () => {
  for (const version of ["v1", "v2"]) {
    const file = JSON.parse(await platform.readTextFile(`${dir}hello-istio-${version}.json`));
    assert.equal(Object.keys(file), ["service"], "one `service` block, as consul services register reads it");
    const s = file.service;
    assert.is(s.name, "hello-istio");
    assert.is(s.name, one("labels").match(/app=([^,]+)/)![1], "the name --consul-register would use");
    assert.is(s.id, `hello-istio-${version}`);
    assert.equal(s.meta, { version }, "Meta version is what the subsets select");
    assert.is(s.port, Number(one("inbound").split(":")[1]), "the sidecar's inbound port, never the app's");
    assert.is(s.checks.length, 1);
    assert.is(s.checks[0].http, `http://${one("admin")}/healthz/ready`);
    assert.match(s.checks[0].interval, /^\d+s$/);
  }
});

test("dietmesh check accepts istio/, also with the 50/50 scenario in place of the v1 route", async () => {
  const check = async (path: string) => {
    const child = runScript(cli, ["check", path]);
    const code = await child.exited;
    assert.is(code, 0, child.lines.join("\n"));
    assert.not.match(child.lines.join("\n"), /Error/);
  };
  await check(`${dir}istio`);
  const swapped = await tempConfig({
    "hello-istio-gateway.yaml": await platform.readTextFile(`${dir}istio/hello-istio-gateway.yaml`),
    "hello-istio-consul-destination.yaml": await platform.readTextFile(`${dir}istio/hello-istio-consul-destination.yaml`),
    "hello-istio-consul-v1.yaml": await platform.readTextFile(`${dir}scenarios/hello-istio-consul-50-50.yaml`),
  });
  await check(swapped);
  await platform.remove(swapped);
});

test.run();
