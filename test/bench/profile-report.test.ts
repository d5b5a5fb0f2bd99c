// bench/profile-report.ts reads what perf and JavaScriptCore write: the JITDump's code-load records
// must become perf-map lines naming the right address ranges, and each sample must be charged to
// the right place (the main thread only, by the frame it landed in; runtime time to the nearest
// JavaScript caller). A figure in docs/performance.md rests on both.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { perfMap, summarize } from "../../bench/profile-report.ts";

/** a JITDump as the format lays it out: a 40-byte header, then records (16-byte prefix each) */
function jitDump(records: { id: number; body: Uint8Array }[]): Uint8Array {
  const size = 40 + records.reduce((n, r) => n + 16 + r.body.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x4a695444, true); // "JiTD"
  view.setUint32(4, 1, true);
  view.setUint32(8, 40, true); // header size
  let at = 40;
  for (const r of records) {
    view.setUint32(at, r.id, true);
    view.setUint32(at + 4, 16 + r.body.byteLength, true);
    out.set(r.body, at + 16);
    at += 16 + r.body.byteLength;
  }
  return out;
}

function codeLoad(address: bigint, length: bigint, name: string): { id: number; body: Uint8Array } {
  const text = new TextEncoder().encode(name);
  const body = new Uint8Array(40 + text.byteLength + 1 + length.toString().length); // name, NUL, then code bytes
  const view = new DataView(body.buffer);
  view.setUint32(0, 4242, true); // pid
  view.setUint32(4, 4243, true); // tid
  view.setBigUint64(8, address, true); // vma
  view.setBigUint64(16, address, true); // code address
  view.setBigUint64(24, length, true);
  view.setBigUint64(32, 7n, true); // code index
  body.set(text, 40);
  return { id: 0, body };
}

test("code-load records become perf-map lines (hex address, hex size, name); other records are skipped", () => {
  const dump = jitDump([
    codeLoad(0x7f0010c17000n, 0x180n, "JSC-Thunk: DefaultCall"),
    { id: 2, body: new Uint8Array(24) }, // a code-move record: not a piece of code with a name
    codeLoad(0x7f0010d00040n, 0x9a0n, "JSC-FTL: parseHead#AsCyQd"),
  ]);
  assert.is(perfMap(dump), "7f0010c17000 180 JSC-Thunk: DefaultCall\n7f0010d00040 9a0 JSC-FTL: parseHead#AsCyQd\n");
});

const SCRIPT = [
  // main thread (tid 100): a JIT leaf, a runtime leaf under a JIT function, a kernel leaf, a runtime leaf with no JavaScript above
  "bun 100",
  "\t7f0010d00100 JSC-FTL: parseHead#AsCyQd (/tmp/perf-100.map)",
  "\t7f0010d00200 JSC-FTL: read#Dw0q1N (/tmp/perf-100.map)",
  "",
  "bun 100",
  "\t1a44ff1 [unknown] (/x/node_modules/bun/bin/bun.exe)",
  "\t7f0010d00100 JSC-FTL: parseHead#AsCyQd (/tmp/perf-100.map)",
  "",
  "bun 100",
  "\tffffffff8161bea5 tcp_ack ([kernel.kallsyms])",
  "\t224ba __send (/usr/lib/x86_64-linux-gnu/libc.so.6)",
  "",
  "bun 100",
  "\t1a44ff1 [unknown] (/x/node_modules/bun/bin/bun.exe)",
  "\t1a40000 [unknown] (/x/node_modules/bun/bin/bun.exe)",
  "",
  // another thread (the JIT compiler): counted apart
  "JITWorker 101",
  "\t1b00000 [unknown] (/x/node_modules/bun/bin/bun.exe)",
  "",
].join("\n");

test("samples are charged by thread, by where they landed, and runtime time to its JavaScript caller", () => {
  // 4 main-thread samples at 1,000 Hz over 2 requests: each sample is 0.5 ms = 500 µs per request
  const p = summarize(SCRIPT, "100", 1000, 2);
  assert.is(p.main, 2000);
  assert.is(p.otherThreads, 500);
  assert.equal(p.byWhere, { kernel: 500, runtime: 1000, "JavaScript (JIT)": 500, libc: 0, other: 0 });
  assert.equal(p.functions, [
    { name: "parseHead (FTL)", self: 500, beneath: 500 },
    { name: "(no JavaScript frame)", self: 0, beneath: 500 },
  ]);
});

test.run();
