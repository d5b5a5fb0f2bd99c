import { test } from "uvu";
import * as assert from "uvu/assert";
import { authorityFromHeaderOps, compileHeaderOps, headerOpsProblems, safeHeaderValue } from "../../runtime/routing/header-ops.ts";

test("set overwrites, add appends, remove deletes", () => {
  const edit = compileHeaderOps({ set: { "x-set": "1" }, add: { "x-add": "2" }, remove: ["x-gone"] })!;
  const h = new Headers({ "x-set": "old", "x-add": "first", "x-gone": "bye", keep: "k" });
  edit(h);
  assert.is(h.get("x-set"), "1");
  assert.is(h.get("x-add"), "first, 2");
  assert.is(h.has("x-gone"), false);
  assert.is(h.get("keep"), "k");
});

test("nothing to do → undefined", () => {
  assert.is(compileHeaderOps(undefined), undefined);
  assert.is(compileHeaderOps({}, {}), undefined);
});

test("route then destination: removes first, then writes in order, destination set wins", () => {
  const edit = compileHeaderOps(
    { set: { "x-who": "route" }, remove: ["x-drop"] },
    { set: { "x-who": "destination" }, add: { "x-drop": "re-added" }, remove: ["x-route-only"] },
  )!;
  const h = new Headers({ "x-drop": "old", "x-route-only": "y" });
  edit(h);
  assert.is(h.get("x-who"), "destination");
  assert.is(h.get("x-drop"), "re-added");
  assert.is(h.has("x-route-only"), false);
});

test("CR/LF never reach a header: rejected by validation, stripped by compile", () => {
  const ops = { set: { "x-evil": "a\r\nset-cookie: pwned" } };
  assert.equal(headerOpsProblems(ops, "request").map((p) => p.path), [["set", "x-evil"]]);
  const h = new Headers();
  compileHeaderOps(ops)!(h);
  assert.is(h.get("x-evil"), "aset-cookie: pwned");
  assert.is(h.has("set-cookie"), false);
  assert.equal(headerOpsProblems({ add: { "x-nul": "a\u0000b" } }, "response").map((p) => p.path), [["add", "x-nul"]]);
  assert.equal(headerOpsProblems({ set: { "bad name": "v" } }, "request").map((p) => p.path), [["set", "bad name"]]);
  assert.equal(headerOpsProblems({ set: { "x-ok": "v\twith tab" } }, "request"), []);
});

test("values beyond Latin-1 do not make Headers throw", () => {
  const h = new Headers();
  compileHeaderOps({ set: { "x-emoji": "hi 👋" } })!(h);
  assert.ok(h.get("x-emoji")!.startsWith("hi "));
  assert.is(safeHeaderValue("café"), "café");
});

test("host and pseudo-headers are not written; host becomes an authority rewrite (set over add)", () => {
  const ops = { set: { host: "set.example" }, add: { ":authority": "add.example", "x-ok": "1" }, remove: ["host", ":path"] };
  const h = new Headers({ host: "orig" });
  compileHeaderOps(ops)!(h);
  assert.is(h.get("host"), "orig");
  assert.is(h.get("x-ok"), "1");
  assert.is(authorityFromHeaderOps(ops), "set.example");
  assert.is(authorityFromHeaderOps({ add: { Host: "only-add" } }), "only-add");
  assert.is(authorityFromHeaderOps(undefined), undefined);
});

test("works on response headers too", () => {
  const res = new Response("x", { headers: { server: "app" } });
  compileHeaderOps({ set: { "x-mesh": "dietmesh" }, remove: ["server"] })!(res.headers);
  assert.is(res.headers.get("x-mesh"), "dietmesh");
  assert.is(res.headers.has("server"), false);
});

test.run();
