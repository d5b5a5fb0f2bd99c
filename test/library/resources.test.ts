// createMesh({ resources }) (issue 16): Istio resources as parsed objects, no file read. They are
// validated as files are (errors name resources[i], the kind, name and field path), their
// ServiceEntries are the registry, and mesh.reload(resources) swaps the config whole: a bad set is
// refused with every error and the last good config keeps serving.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createMesh, MeshConfigError, type Mesh } from "../../runtime/library/index.ts";
import { eventually, must, run, startEcho } from "../support/mesh.ts";
import { startConsulAgent } from "../support/consul-agent.ts";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";

const v1 = startEcho("reviews-v1");
const v2 = startEcho("reviews-v2");
const quiet = () => {};

const serviceEntry = () => ({
  apiVersion: "networking.istio.io/v1",
  kind: "ServiceEntry",
  metadata: { name: "reviews" },
  spec: {
    hosts: ["reviews.default.svc.cluster.local"],
    location: "MESH_INTERNAL",
    resolution: "STATIC",
    ports: [{ number: 8080, name: "http", protocol: "HTTP" }],
    endpoints: [
      { address: "127.0.0.1", ports: { http: v1.server.port }, labels: { version: "v1" } },
      { address: "127.0.0.1", ports: { http: v2.server.port }, labels: { version: "v2" } },
    ],
  },
});
const subsets = () => ({
  apiVersion: "networking.istio.io/v1",
  kind: "DestinationRule",
  metadata: { name: "reviews", namespace: "default" },
  spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
});
// both subsets stay routed (one at weight 0): a reload that drops a cluster leaves its pool open
// for 30 s for requests in flight (upstream/cluster-state.ts), which would hold this process
const routeTo = (subset: "v1" | "v2", weight: unknown = 100) => ({
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "reviews", namespace: "default" },
  spec: {
    hosts: ["reviews"],
    http: [{ route: [{ destination: { host: "reviews", subset }, weight }, { destination: { host: "reviews", subset: subset === "v1" ? "v2" : "v1" }, weight: 0 }] }],
  },
});

async function who(mesh: Mesh): Promise<string> {
  const response = await mesh.fetch("http://reviews:8080/x");
  assert.is(response.status, 200);
  return (await response.json()).name;
}

async function rejection(promise: Promise<unknown>): Promise<MeshConfigError> {
  try {
    await promise;
  } catch (e) {
    assert.instance(e, MeshConfigError);
    return e as MeshConfigError;
  }
  throw new Error("expected a MeshConfigError");
}

test.after(async () => {
  for (const s of [v1, v2]) await s.server.stop(true);
});

test("routes by the objects' VirtualService; reload swaps it; a bad set is refused naming resources[i] and the old config serves", async () => {
  const objects = [serviceEntry(), subsets(), routeTo("v1")];
  const mesh = await createMesh({ resources: objects, namespace: "default", labels: { app: "web" }, log: quiet });
  try {
    assert.is(await who(mesh), "reviews-v1");
    // the caller's objects stay theirs: the mesh froze its own copy
    assert.not.ok(Object.isFrozen(objects[2].spec));

    await mesh.reload([serviceEntry(), subsets(), routeTo("v2")]);
    assert.is(await who(mesh), "reviews-v2");

    const error = await rejection(mesh.reload([serviceEntry(), subsets(), routeTo("v1", "eighty")]));
    const schema = error.errors.find((e) => e.code === "schema")!;
    assert.ok(schema, error.message);
    assert.is(schema.file, "resources[2]");
    assert.is(schema.kind, "VirtualService");
    assert.is(schema.name, "reviews");
    assert.is(schema.path, "spec.http[0].route[0].weight");
    assert.is(schema.document, undefined);
    assert.match(error.message, "VirtualService default/reviews (resources[2]) spec.http[0].route[0].weight");
    assert.is(await who(mesh), "reviews-v2", "the last good config stays in service");

    // what `dietmesh check` calls an error is refused too: a subset no DestinationRule defines
    const unknown = await rejection(mesh.reload([serviceEntry(), routeTo("v1")]));
    assert.ok(unknown.errors.some((e) => e.code === "unknown-subset"), unknown.message);
    assert.is(await who(mesh), "reviews-v2");
  } finally {
    await mesh.close();
  }
});

/** `dietmesh check --emit` (the real CLI) on these objects written as one file: [exit code, the sealed config or null] */
async function checkedFrom(objects: unknown[]): Promise<[number, Record<string, unknown> | null]> {
  const dir = await platform.makeTempDir("dietmesh-checked-");
  try {
    await platform.writeTextFile(`${dir}/mesh.json`, JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    const { code } = await run("dietmesh", ["check", "--emit", `${dir}/checked.json`, `${dir}/mesh.json`]);
    const written = await platform.readTextFile(`${dir}/checked.json`).then((t) => JSON.parse(t), () => null);
    return [code, written];
  } finally {
    await platform.remove(dir);
  }
}

test("a config checked ahead routes as its objects do, reloads by a new one, and a changed one is refused", async () => {
  const [code, checked] = await checkedFrom([serviceEntry(), subsets(), routeTo("v1")]);
  assert.is(code, 0);
  assert.is(checked?.kind, "CheckedConfig");
  const mesh = await createMesh({ resources: [checked], namespace: "default", labels: { app: "web" }, log: quiet });
  try {
    assert.is(await who(mesh), "reviews-v1");
    assert.not.ok(Object.isFrozen(checked), "the caller's object stays theirs");
    const [, toV2] = await checkedFrom([serviceEntry(), subsets(), routeTo("v2")]);
    await mesh.reload([toV2]);
    assert.is(await who(mesh), "reviews-v2");
    // an edit after sealing (v1 again, by hand): refused, v2 keeps serving
    const edited = structuredClone(toV2) as { files: { resource?: { kind: string; spec: { http: { route: { weight: number }[] }[] } } }[][] };
    const vs = edited.files.flat().find((e) => e.resource?.kind === "VirtualService")!.resource!;
    [vs.spec.http[0].route[0].weight, vs.spec.http[0].route[1].weight] = [0, 100];
    const changed = await rejection(mesh.reload([edited]));
    assert.match(changed.message, /changed after `dietmesh check --emit` sealed it/);
    assert.is(await who(mesh), "reviews-v2");
    // the whole config: not beside other objects
    const beside = await rejection(mesh.reload([toV2, serviceEntry()]));
    assert.match(beside.message, /CheckedConfig is the whole config/);
  } finally {
    await mesh.close();
  }
  // another version's: refused at createMesh, saying what to do
  const old = await rejection(createMesh({ resources: [{ ...checked, version: "0.0.1" }], labels: { app: "web" }, log: quiet }));
  assert.match(old.message, /made by dietmesh "0\.0\.1" cannot be used by dietmesh .*run `dietmesh check --emit` again/);
});

test("dietmesh check --emit on a config with an error exits 79 and writes nothing", async () => {
  const [code, written] = await checkedFrom([serviceEntry(), subsets(), routeTo("v1", "eighty")]);
  assert.is(code, 79);
  assert.is(written, null);
});

test("a bad first set: createMesh rejects with every error, each naming its object", async () => {
  const error = await rejection(createMesh({ resources: [serviceEntry(), null, { kind: "VirtualService" }], log: quiet }));
  assert.equal(error.errors.map((e) => e.file), ["resources[1]", "resources[2]"]);
  assert.is(error.errors[1].path, "apiVersion");
});

test("resources beside files, or beside a registry that carries config, is a usage error", async () => {
  try {
    await createMesh({ resources: [], config: ["mesh/"] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, TypeError);
    assert.match(String(e), "give one");
  }
  for (const registry of ["kubernetes", "consul=http://127.0.0.1:1?kv=mesh"]) {
    try {
      await createMesh({ resources: [], registry: [registry] });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, TypeError);
      assert.match(String(e), registry);
    }
  }
});

test("Consul's catalog beside the objects (HTTP, no file): its services route, the objects' rules apply, a change in it is followed", async () => {
  const agent = startConsulAgent();
  try {
    const register = await fetch(`${agent.address}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "ratings", ID: "ratings-1", Address: "127.0.0.1", Port: v2.server.port }) });
    assert.is(register.status, 200);
    const fault = {
      apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "ratings", namespace: "default" },
      spec: { hosts: ["ratings.service.consul"], http: [{ match: [{ uri: { prefix: "/teapot" } }], fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }, route: [{ destination: { host: "ratings.service.consul" } }] }, { route: [{ destination: { host: "ratings.service.consul" } }] }] },
    };
    const mesh = await createMesh({ resources: [fault], registry: [`consul=${agent.address}`], log: quiet });
    try {
      const response = await mesh.fetch("http://ratings.service.consul/x");
      assert.is(response.status, 200);
      assert.is((await response.json()).name, "reviews-v2");
      assert.is((await mesh.fetch("http://ratings.service.consul/teapot")).status, 418);
      // the catalog is watched in process: the service moves to another instance, the mesh follows
      const move = await fetch(`${agent.address}/v1/agent/service/register`, { method: "PUT", body: JSON.stringify({ Name: "ratings", ID: "ratings-1", Address: "127.0.0.1", Port: v1.server.port }) });
      assert.is(move.status, 200);
      await eventually(async () => (await (await mesh.fetch("http://ratings.service.consul/x")).json()).name === "reviews-v1", 10_000, "the mesh routes to the moved instance");
    } finally {
      await mesh.close();
    }
  } finally {
    await agent.stop();
  }
});

test("an empty set is a valid, empty config: nothing routes (404 NR)", async () => {
  const mesh = await createMesh({ resources: [], log: quiet });
  try {
    assert.is((await mesh.fetch("http://reviews:8080/x")).status, 404);
  } finally {
    await mesh.close();
  }
});

test("a refused first set with an identity: createMesh throws and nothing keeps the process alive", async () => {
  const work = await platform.makeTempDir("dietmesh-refused-");
  try {
    await must("dietmesh", ["ca", "init", "--dir", `${work}/ca`]);
    const child = runScript(new URL("./refused-start.ts", import.meta.url).pathname, [`${work}/ca`]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"alive">((resolve) => (timer = setTimeout(() => resolve("alive"), 30_000)));
    const code = await Promise.race([child.exited, deadline]);
    clearTimeout(timer);
    if (code === "alive") child.kill("SIGKILL");
    assert.is(code, 0, `the process stayed alive or failed:\n${child.lines.join("\n")}`);
    assert.ok(child.lines.includes("refused resources[0] metadata"), child.lines.join("\n"));
  } finally {
    await platform.remove(work);
  }
});

test.run();
