// HeaderList against the runtime's own Headers: the same random operations on both (append, set,
// delete with names in any case, values with surrounding whitespace, invalid names and values),
// then every read (get, has, getSetCookie, iteration, forEach) must agree, and a throw on one side
// must be a throw on the other. A seeded run; DIETMESH_FUZZ_SEED replays one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { HeaderList } from "../../runtime/exchange/header-list.ts";
import { seededRandom } from "../resilience/seeded-random.ts";

const seed = Number(process.env.DIETMESH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

const NAMES = ["host", "Host", "x-a", "X-A", "set-cookie", "Set-Cookie", "content-length", "accept", "x-b", "x b", "", "x\u00e9", "x:y"];
const VALUES = ["1", " padded\t", "a, b", "", "v\r\nx: y", "nul\u0000", "caf\u00e9", "\u20ac", "x=1; Path=/", "  "];

// Bun's Headers lists set-cookie after every other name; the standard (and Deno, Node, HeaderList)
// sorts it with the rest. Reads are compared in name order (a stable sort: cookies keep theirs).
// Deno's iteration also drops a leading empty value when it combines (", x" becomes "x"; its get()
// does not, nor do Bun's and Node's), so a combined value is compared as get() gives it, and
// HeaderList's own iteration is checked against its get() separately.
function byName(pairs: [string, string][], target: Headers): [string, string][] {
  const read = pairs.map(([k, v]): [string, string] => [k, k === "set-cookie" ? v : target.get(k)!]);
  return read.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function run(target: Headers, ops: [string, string, string][]): string[] {
  const log: string[] = [];
  for (const [op, name, value] of ops) {
    try {
      if (op === "append") target.append(name, value);
      else if (op === "set") target.set(name, value);
      else if (op === "delete") target.delete(name);
      else if (op === "get") log.push(`get ${name}=${target.get(name)}`);
      else log.push(`has ${name}=${target.has(name)}`);
    } catch (error) {
      log.push(`${op} ${JSON.stringify(name)} threw ${(error as Error).name}`);
    }
  }
  log.push(`entries ${JSON.stringify(byName([...target], target))}`);
  log.push(`cookies ${JSON.stringify(target.getSetCookie())}`);
  const each: [string, string][] = [];
  target.forEach((v, k) => each.push([k, v]));
  log.push(`forEach ${JSON.stringify(byName(each, target))}`);
  const keys = [...target.keys()];
  const values = [...target.values()];
  log.push(`keys/values ${JSON.stringify(byName(keys.map((k, i) => [k, values[i]]), target))}`);
  return log;
}

test(`random operations read the same through HeaderList and Headers (seed ${seed})`, () => {
  const rand = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  for (let round = 0; round < 500; round++) {
    const ops: [string, string, string][] = [];
    const n = 1 + Math.floor(rand() * 12);
    for (let i = 0; i < n; i++) ops.push([pick(["append", "append", "set", "delete", "get", "has"]), pick(NAMES), pick(VALUES)]);
    const list = new HeaderList();
    assert.equal(run(list, ops), run(new Headers(), ops), `ops ${JSON.stringify(ops)}`);
    for (const [name, value] of list) if (name !== "set-cookie") assert.is(value, list.get(name));
  }
});

test("built from a record, from pairs and from another list, as Headers is", () => {
  const record = { "X-One": "1", two: " 2 " };
  assert.equal([...new HeaderList(record)], [...new Headers(record)]);
  const pairs: [string, string][] = [["b", "2"], ["A", "1"], ["a", "3"]];
  assert.equal([...new HeaderList(pairs)], [...new Headers(pairs)]);
  const list = new HeaderList(pairs);
  assert.equal([...new HeaderList(list)], [...list]);
  assert.throws(() => new HeaderList([["only-one"]] as unknown as [string, string][]));
});

test("the arrays keep arrival order and case-folded names; a Headers made from the list has the same fields", () => {
  const list = new HeaderList();
  list.append("Z-Last", "z");
  list.append("a-first", "a");
  list.append("Set-Cookie", "c1");
  list.append("set-cookie", "c2");
  assert.equal(list.fieldNames, ["z-last", "a-first", "set-cookie", "set-cookie"]);
  assert.equal(list.fieldValues, ["z", "a", "c1", "c2"]);
  const copy = new Headers(list);
  assert.equal(byName([...copy], copy), [...list]);
  assert.equal(copy.getSetCookie(), ["c1", "c2"]);
});

test("a capitalised name seen before is lowered the same from the names it remembers; bad names still throw", () => {
  for (let round = 0; round < 3; round++) {
    const list = new HeaderList();
    list.append("Content-Type", "text/plain");
    list.append("CONTENT-TYPE", "x");
    list.set("X-Request-Id", "r1");
    assert.equal(list.fieldNames, ["content-type", "content-type", "x-request-id"]);
    assert.is(list.get("Content-Type"), "text/plain, x");
    assert.ok(list.has("X-REQUEST-ID"));
    assert.throws(() => list.append("Content Type", "v"), TypeError);
    assert.throws(() => list.get("x-réquest"), TypeError);
  }
});

test("set replaces the first field in place and drops the others", () => {
  const list = new HeaderList([["a", "1"], ["b", "2"], ["a", "3"], ["c", "4"]]);
  list.set("A", "9");
  assert.equal(list.fieldNames, ["a", "b", "c"]);
  assert.equal(list.fieldValues, ["9", "2", "4"]);
  list.delete("b");
  assert.equal(list.fieldNames, ["a", "c"]);
});

test("removeWhere drops every field the test picks, keeping the others in order", () => {
  const list = new HeaderList([["connection", "close"], ["a", "1"], ["te", "trailers"], ["b", "2"], ["Connection", "x"]]);
  const picked = new Set(["connection", "te"]);
  list.removeWhere((name) => picked.has(name));
  assert.equal(list.fieldNames, ["a", "b"]);
  assert.equal(list.fieldValues, ["1", "2"]);
  list.removeWhere((name) => name === "absent");
  assert.equal(list.fieldNames, ["a", "b"]);
});

test.run();
