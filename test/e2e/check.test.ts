// `dietmesh check` as a user runs it: the real CLI on files on disk. Each mistake exits 79 (istioctl
// analyze's "issues found") with a
// line naming the file, the resource and the field; a clean config and the seed's files exit 0.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, showcase, stopAll, tempConfig } from "../support/mesh.ts";

async function check(...paths: string[]) {
  const child = runScript(cli, ["check", ...paths]);
  const code = await child.exited;
  return { code, out: child.lines.join("\n"), lines: child.lines };
}

const CLEAN = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http }]
  endpoints: [{ address: 10.0.0.1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  subsets: [{ name: v1, labels: { version: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
  - match: [{ headers: { x-user: { regex: "jason|ann" } } }]
    route:
    - { destination: { host: reviews, subset: v1 }, weight: 100 }
`;

/** each mistake: how to make it from CLEAN, the field path reported and what the message says */
const MISTAKES = [
  { name: "weight.yaml", from: "weight: 100", to: "weight: heavy", path: "spec.http[0].route[0].weight", says: /expected a number, got "heavy"/ },
  { name: "subset.yaml", from: "subset: v1 }", to: "subset: v9 }", path: "spec.http[0].route[0].destination.subset", says: /subset "v9" .* not defined/ },
  { name: "regex.yaml", from: "jason|ann", to: "jason(ann", path: 'spec.http[0].match[0].headers.x-user.regex', says: /invalid regex "jason\(ann"/ },
  { name: "lookahead.yaml", from: "jason|ann", to: "(?=jason)ann", path: "spec.http[0].match[0].headers.x-user.regex", says: /look-ahead/ },
];

let dir = "";
test.before(async () => {
  const files: Record<string, string> = { "clean.yaml": CLEAN };
  for (const m of MISTAKES) {
    assert.ok(CLEAN.includes(m.from), m.from);
    files[m.name] = CLEAN.replace(m.from, m.to);
  }
  dir = await tempConfig(files);
});

test.after(async () => {
  stopAll();
  await platform.remove(dir);
});

test("a clean config exits 0 with the all-clear", async () => {
  const r = await check(`${dir}/clean.yaml`);
  assert.is(r.code, 0, r.out);
  assert.equal(r.lines, ["✔ No validation issues found"]);
});

for (const m of MISTAKES) {
  test(`${m.name.replace(".yaml", "")}: exit 79, and the error names file, resource and field`, async () => {
    const file = `${dir}/${m.name}`;
    const r = await check(file);
    assert.is(r.code, 79, r.out);
    const errors = r.lines.filter((l) => l.startsWith("Error ["));
    assert.is(errors.length, 1, r.out);
    const [line] = errors;
    assert.ok(line.includes(`VirtualService shop/reviews (${file}, document 3`), line);
    assert.ok(line.includes(` ${m.path}: `), line);
    assert.match(line, m.says);
    assert.is(r.lines.at(-1), "Error: 1 error");
  });
}

// The seed's files, each on its own. A VirtualService names a Gateway and DestinationRule subsets
// that live in other files, and check reports those references as errors (as istioctl analyze
// does), so a VirtualService file passes together with its folder's other resources.
const seedFiles: string[] = [];
for (const folder of ["hello-istio", "alphabet"]) {
  for (const name of await platform.readDir(showcase(folder))) if (name.endsWith(".yaml")) seedFiles.push(`${folder}/${name}`);
}
const texts = new Map<string, string>();
for (const f of seedFiles) texts.set(f, await platform.readTextFile(showcase(f)));
const hasVirtualService = (f: string) => /^kind: VirtualService$/m.test(texts.get(f)!);

test("the seed's files are where the test expects them", () => {
  assert.is(seedFiles.filter((f) => f.startsWith("hello-istio/")).length, 12);
  assert.is(seedFiles.filter((f) => f.startsWith("alphabet/")).length, 19);
});

for (const file of seedFiles.filter((f) => !hasVirtualService(f))) {
  test(`seed ${file} on its own: exit 0`, async () => {
    const r = await check(showcase(file));
    assert.is(r.code, 0, r.out);
    assert.not.match(r.out, /^(Error|Warning) \[/m);
  });
}

for (const file of seedFiles.filter(hasVirtualService)) {
  test(`seed ${file}: valid on its own, exit 0 beside its folder's Gateway and DestinationRules`, async () => {
    const alone = await check(showcase(file));
    const codes = [...alone.out.matchAll(/^Error \[([a-z-]+)\]/gm)].map((m) => m[1]);
    assert.ok(codes.length > 0 && codes.every((c) => c === "unknown-gateway" || c === "unknown-subset"), alone.out);
    const folder = file.slice(0, file.indexOf("/"));
    const companions = seedFiles.filter((f) => f.startsWith(`${folder}/`) && !hasVirtualService(f)).map((f) => showcase(f));
    const r = await check(showcase(file), ...companions);
    assert.is(r.code, 0, r.out);
    assert.is(r.lines.at(-1), "✔ No validation issues found");
  });
}

test.run();
