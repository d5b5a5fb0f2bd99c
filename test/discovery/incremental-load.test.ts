// incrementalConfigLoader (runtime/discovery/config-worker.ts, issue 11): every load gives what
// loadConfig gives for the same files (config, errors, notices, skipped), while only the files
// whose text changed are parsed again — in a real worker on both runtimes — and the resources of
// unchanged files stay the very same objects from one config to the next.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { loadConfig } from "../../runtime/config/load.ts";
import { incrementalConfigLoader } from "../../runtime/discovery/config-worker.ts";
import { resourceIO } from "../../runtime/model/registry-resources.ts";
import { inProcessFallbacks, startWorker } from "../../runtime/lib/worker-call.ts";
import { createFakeClock } from "../../runtime/lib/clock.ts";
import { platform } from "../../runtime/platform/index.ts";
import { LEFT_ALONE_MS, readConfigFiles } from "../../runtime/config/files.ts";
import { utimes } from "node:fs/promises";

const io = { readTextFile: platform.readTextFile, readDir: platform.readDir, isDirectory: platform.isDirectory };
const dir = await platform.makeTempDir("dietmesh-incremental-");

const se = (name: string, extra = "") => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name}, namespace: default }
spec:
  hosts: [${name}.example.com]
  ports: [{ number: 80, name: http, protocol: HTTP }]
  resolution: DNS${extra}
`;
const vs = (name: string, host: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${host}]
  http: [{ route: [{ destination: { host: ${host} } }] }]
`;
const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
`;

const fresh = (paths: string[], extra = new Map<string, string>()) => loadConfig(paths, { defaultNamespace: "default", ...resourceIO(io, extra) });

test("the demo meshes: the same result as loadConfig, in a worker", async () => {
  for (const demo of ["demo/hello-istio", "demo/alphabet", "demo/security"]) {
    const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
    const result = await loader.load([demo]);
    assert.ok(result.config, demo);
    assert.equal(result, await fresh([demo]), demo);
    assert.ok(Object.isFrozen(result.config) && Object.isFrozen(result.config!.virtualServices[0]), "frozen, as load.ts freezes");
  }
  assert.is(inProcessFallbacks(), 0, "every parse ran in a worker");
});

test("a one-file change parses that file only; unchanged resources are the same objects", async () => {
  await platform.writeTextFile(`${dir}/a.yaml`, `${se("a")}---\n${deployment("web")}`);
  await platform.writeTextFile(`${dir}/b.yaml`, `${se("b")}---\n${vs("b", "b.example.com")}`);
  await platform.writeTextFile(`${dir}/c.yaml`, se("c"));
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  const first = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 3, reused: 0 });
  assert.equal(first, await fresh([dir]));

  await platform.writeTextFile(`${dir}/b.yaml`, `${se("b", "\n  location: MESH_INTERNAL")}---\n${vs("b", "b.example.com")}`);
  const second = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 1, reused: 2 });
  assert.equal(second, await fresh([dir]));
  const byName = (r: typeof first, name: string) => r.config!.serviceEntries.find((s) => s.metadata.name === name);
  assert.ok(byName(second, "a") === byName(first, "a"), "a.yaml's ServiceEntry reused");
  assert.ok(byName(second, "c") === byName(first, "c"), "c.yaml's ServiceEntry reused");
  assert.ok(byName(second, "b") !== byName(first, "b"), "b.yaml's ServiceEntry parsed anew");
  assert.is(byName(second, "b")!.spec.location, "MESH_INTERNAL");

  const third = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 0, reused: 3 }, "nothing changed, nothing parsed");
  assert.equal(third, second);
});

test("in a changed file, the resources the change did not touch stay the same objects", async () => {
  await platform.writeTextFile(`${dir}/m.yaml`, `${se("m1")}---\n${se("m2")}---\n${vs("m", "m1.example.com")}`);
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  const first = await loader.load([`${dir}/m.yaml`]);
  const names = (r: typeof first) => [...r.config!.serviceEntries, ...r.config!.virtualServices];

  // a comment: parsed again, every resource kept
  await platform.writeTextFile(`${dir}/m.yaml`, `${se("m1")}---\n${se("m2")}---\n${vs("m", "m1.example.com")}# a comment\n`);
  const commented = await loader.load([`${dir}/m.yaml`]);
  assert.equal(loader.last, { parsed: 1, reused: 0 });
  assert.equal(commented, await fresh([`${dir}/m.yaml`]));
  names(commented).forEach((r, i) => assert.ok(r === names(first)[i], `${r.metadata.name} kept`));

  // one ServiceEntry changed: it alone is new
  await platform.writeTextFile(`${dir}/m.yaml`, `${se("m1")}---\n${se("m2", "\n  location: MESH_INTERNAL")}---\n${vs("m", "m1.example.com")}`);
  const changed = await loader.load([`${dir}/m.yaml`]);
  assert.equal(changed, await fresh([`${dir}/m.yaml`]));
  const [m1, m2, v] = names(changed);
  assert.ok(m1 === names(first)[0] && v === names(first)[2], "the untouched ones kept");
  assert.ok(m2 !== names(first)[1]);
  assert.is((m2 as { spec: { location?: string } }).spec.location, "MESH_INTERNAL");

  // a document moved: its origin changed, so it is new (errors and notices name documents)
  await platform.writeTextFile(`${dir}/m.yaml`, `${vs("m", "m1.example.com")}---\n${se("m1")}---\n${se("m2", "\n  location: MESH_INTERNAL")}`);
  const moved = await loader.load([`${dir}/m.yaml`]);
  assert.equal(moved, await fresh([`${dir}/m.yaml`]));
  assert.ok(names(moved).every((r) => !names(changed).includes(r)), "every origin moved");
  await platform.remove(`${dir}/m.yaml`); // the other tests load the whole folder
});

test("across files: a duplicate made by a change, a bad file, a removed file — as loadConfig says", async () => {
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  await platform.writeTextFile(`${dir}/a.yaml`, se("a"));
  await platform.writeTextFile(`${dir}/b.yaml`, se("b"));
  await platform.writeTextFile(`${dir}/c.yaml`, se("c"));
  await loader.load([dir]);

  await platform.writeTextFile(`${dir}/c.yaml`, se("a")); // the same name as a.yaml's
  const duplicate = await loader.load([dir]);
  assert.is(duplicate.config, undefined);
  assert.ok(duplicate.errors.some((e) => e.code === "duplicate" && e.file === `${dir}/c.yaml`), "the second one is the duplicate");
  assert.equal(duplicate, await fresh([dir]));

  await platform.writeTextFile(`${dir}/c.yaml`, "kind: [broken");
  const broken = await loader.load([dir]);
  assert.ok(broken.errors.some((e) => e.code === "yaml-syntax" && e.file === `${dir}/c.yaml`));
  assert.equal(broken, await fresh([dir]));

  await platform.remove(`${dir}/c.yaml`);
  const removed = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 0, reused: 2 });
  assert.equal(removed.config!.serviceEntries.map((s) => s.metadata.name), ["a", "b"]);
  assert.equal(removed, await fresh([dir]));
});

test("registry resources (extra) are files too: only a changed one is parsed again", async () => {
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  const object = (port: number) => JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: "shop" }, spec: { hosts: ["api.example.com"], ports: [{ number: port, name: "https", protocol: "TLS" }], resolution: "DNS" } });
  const ref = "kubernetes:ServiceEntry/shop/ext";
  await loader.load(["demo/hello-istio", ref], new Map([[ref, object(443)]]));
  const extra = new Map([[ref, object(8443)]]);
  const result = await loader.load(["demo/hello-istio", ref], extra);
  assert.is(loader.last.parsed, 1);
  assert.equal(result, await fresh(["demo/hello-istio", ref], extra));
  assert.is(result.config!.serviceEntries.find((s) => s.metadata.name === "ext")!.spec.ports![0].number, 8443);
});

test("warm parses a change ahead of the load, which then parses nothing; a change after the warm is parsed by the load", async () => {
  await platform.writeTextFile(`${dir}/a.yaml`, se("a"));
  await platform.writeTextFile(`${dir}/b.yaml`, se("b"));
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  await loader.load([dir]);
  await platform.writeTextFile(`${dir}/b.yaml`, se("b", "\n  location: MESH_INTERNAL"));
  await loader.warm([dir]);
  const warmed = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 0, reused: 2 });
  assert.equal(warmed, await fresh([dir]));
  await loader.warm([dir]);
  await platform.writeTextFile(`${dir}/b.yaml`, se("b"));
  const after = await loader.load([dir]);
  assert.equal(loader.last, { parsed: 1, reused: 1 });
  assert.equal(after, await fresh([dir]));
});

test("files a read found left alone: the load keeps their entries, reads none of them, and gives loadConfig's result", async () => {
  const sub = `${dir}/left-alone`;
  await platform.mkdir(sub);
  await platform.writeTextFile(`${sub}/a.yaml`, se("a"));
  await platform.writeTextFile(`${sub}/b.yaml`, `${se("b")}---\n${vs("b", "b.example.com")}`);
  const long = new Date(Date.now() - 10 * LEFT_ALONE_MS);
  for (const f of ["a", "b"]) await utimes(`${sub}/${f}.yaml`, long, long);
  const withStat = { ...io, readTextFileWithIdentity: platform.readTextFileWithIdentity, fileIdentity: platform.fileIdentity };
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true });
  const reference = await readConfigFiles([sub], withStat);
  const first = await loader.load([sub], new Map(), reference);
  await platform.writeTextFile(`${sub}/a.yaml`, se("a", "\n  location: MESH_INTERNAL"));
  const read = await readConfigFiles([sub], withStat, reference);
  assert.equal([...(read.unchanged ?? [])], [`${sub}/b.yaml`]);
  const second = await loader.load([sub], new Map(), read);
  assert.equal(loader.last, { parsed: 1, reused: 1 });
  assert.equal(second, await fresh([sub]));
  assert.is(second.config!.virtualServices[0], first.config!.virtualServices[0], "b's VirtualService is the kept object");
});

test("a worker started ahead (prestart) parses the next change, errors included, and is ended when unused", async () => {
  const clock = createFakeClock();
  await platform.writeTextFile(`${dir}/ahead.yaml`, se("ahead"));
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true, spareMs: 30_000, clock });
  const fallbacks = inProcessFallbacks();
  loader.prestart();
  assert.ok(loader.spareWaiting());
  assert.equal(await loader.load([`${dir}/ahead.yaml`]), await fresh([`${dir}/ahead.yaml`]));
  assert.equal(loader.last, { parsed: 1, reused: 0 });
  assert.not.ok(loader.spareWaiting(), "the parse took it");

  // a broken change parsed by a worker started ahead: the same errors as loadConfig's
  await platform.writeTextFile(`${dir}/ahead.yaml`, se("ahead", "\n  location: SOMEWHERE"));
  loader.prestart();
  loader.prestart(); // one worker waits, however many events came
  const broken = await loader.load([`${dir}/ahead.yaml`]);
  assert.not.ok(broken.config);
  assert.equal(broken, await fresh([`${dir}/ahead.yaml`]));
  assert.is(inProcessFallbacks(), fallbacks, "every parse ran in a worker");

  loader.prestart();
  clock.advance(29_999);
  assert.ok(loader.spareWaiting());
  clock.advance(1);
  assert.not.ok(loader.spareWaiting(), "ended after spareMs unused");
  assert.is(clock.pending(), 0);

  loader.prestart();
  loader.close();
  assert.not.ok(loader.spareWaiting());
  assert.is(clock.pending(), 0, "close clears its timer");
  loader.prestart();
  assert.not.ok(loader.spareWaiting(), "nothing starts after close");
});

test("in process (worker: false), prestart starts nothing", () => {
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: false });
  loader.prestart();
  assert.not.ok(loader.spareWaiting());
});

test("startWorker: one request per worker; ended unused, it answers none; a worker that cannot start answers in process", async () => {
  const entry = new URL("../../runtime/discovery/config-worker-main.ts", import.meta.url);
  const ended = startWorker<unknown, unknown>(entry);
  ended.end();
  const refused = await ended.call({ defaultNamespace: "default", files: [] }, async () => "in process").then(() => "answered", (e: Error) => e.message);
  assert.is(refused, "a started worker answers one request");
  const fallbacks = inProcessFallbacks();
  const missing = startWorker<unknown, string>(new URL("./no-such-worker.ts", import.meta.url));
  assert.is(await missing.call({}, async () => "in process"), "in process");
  assert.is(inProcessFallbacks(), fallbacks + 1);
});

test("a worker that cannot start: the same result, parsed in process, and one warning that says so", async () => {
  const logs: string[] = [];
  const entry = new URL("./no-such-worker.ts", import.meta.url);
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true, entry, log: (m) => logs.push(m) });
  const fallbacks = inProcessFallbacks();
  await platform.writeTextFile(`${dir}/fallback.yaml`, se("fallback"));
  assert.equal(await loader.load([`${dir}/fallback.yaml`]), await fresh([`${dir}/fallback.yaml`]));
  await platform.writeTextFile(`${dir}/fallback.yaml`, se("fallback2"));
  assert.equal(await loader.load([`${dir}/fallback.yaml`]), await fresh([`${dir}/fallback.yaml`]));
  assert.is(inProcessFallbacks(), fallbacks + 2, "both parses fell back");
  assert.is(logs.length, 1, logs.join("\n"));
  assert.match(logs[0], `config worker could not start (${entry.href})`);
  assert.match(logs[0], "parsed in this process");
});

test("a loader whose worker starts says nothing", async () => {
  const logs: string[] = [];
  const loader = incrementalConfigLoader({ defaultNamespace: "default", worker: true, log: (m) => logs.push(m) });
  await platform.writeTextFile(`${dir}/quiet.yaml`, se("quiet"));
  assert.ok((await loader.load([`${dir}/quiet.yaml`])).config);
  assert.equal(logs, []);
});

test.after(() => platform.remove(dir));
test.run();
