// A strict little parser for the Prometheus text format 0.0.4, so tests read the exposition back
// instead of comparing strings: it rejects what a scraper would (bad escapes, samples before their
// TYPE, a family split in two) and checks every histogram (monotonic buckets, +Inf = _count).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Parsed {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(text: string, at: number, line: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = at + 1;
  while (text[i] !== "}") {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad label at ${i}: ${line}`);
    i += m[0].length;
    let value = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw new Error(`unterminated label value: ${line}`);
      if (c === '"') break;
      if (c === "\n") throw new Error(`raw line feed in label value: ${line}`);
      if (c === "\\") {
        const e = text[i++];
        if (e === "n") value += "\n";
        else if (e === "\\" || e === '"') value += e;
        else throw new Error(`bad escape \\${e}: ${line}`);
      } else value += c;
    }
    if (m[1] in labels) throw new Error(`duplicate label ${m[1]}: ${line}`);
    labels[m[1]] = value;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`expected , or }: ${line}`);
  }
  return [labels, i + 1];
}

function parseValue(v: string, line: string): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  if (v === "NaN") return NaN;
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) throw new Error(`bad value "${v}": ${line}`);
  return Number(v);
}

/** the family a sample belongs to: histogram samples carry a suffix */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix) && types.get(name.slice(0, -suffix.length)) === "histogram") return name.slice(0, -suffix.length);
  }
  return name;
}

export function parseExposition(text: string): Parsed {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const done = new Set<string>();
  let current = "";
  if (!text.endsWith("\n")) throw new Error("exposition must end with a line feed");
  for (const line of text.slice(0, -1).split("\n")) {
    const h = /^# HELP (\S+) (.*)$/.exec(line);
    if (h) {
      if (/\\[^\\n]/.test(h[2].replace(/\\\\/g, ""))) throw new Error(`bad escape in HELP: ${line}`);
      help.set(h[1], h[2]);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (types.has(name)) throw new Error(`second TYPE for ${name}`);
      if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad type: ${line}`);
      types.set(name, type);
      continue;
    }
    if (line === "" || line.startsWith("#")) throw new Error(`unexpected line "${line}"`);
    const m = NAME.exec(line);
    if (!m) throw new Error(`bad metric name: ${line}`);
    let i = m[0].length;
    let labels: Record<string, string> = {};
    if (line[i] === "{") [labels, i] = parseLabels(line, i, line);
    if (line[i] !== " ") throw new Error(`expected a space before the value: ${line}`);
    const value = parseValue(line.slice(i + 1), line);
    const family = familyOf(m[0], types);
    if (!types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    if (family !== current) {
      if (done.has(family)) throw new Error(`family ${family} is split: ${line}`);
      if (current) done.add(current);
      current = family;
    }
    samples.push({ name: m[0], labels, value });
  }
  checkHistograms(samples, types);
  return { samples, types, help };
}

function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of samples) {
    const family = familyOf(s.name, types);
    if (types.get(family) !== "histogram") continue;
    const { le, ...rest } = s.labels;
    const key = family + JSON.stringify(rest);
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name.endsWith("_bucket")) g.buckets.push([parseValue(le, s.name), s.value]);
    else if (s.name.endsWith("_count")) g.count = s.value;
    else g.sum = s.value;
  }
  for (const [key, g] of groups) {
    if (g.count === undefined || g.sum === undefined) throw new Error(`${key}: missing _count or _sum`);
    const last = g.buckets[g.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${key}: no +Inf bucket last`);
    if (last[1] !== g.count) throw new Error(`${key}: +Inf bucket ${last[1]} != _count ${g.count}`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i][0] <= g.buckets[i - 1][0]) throw new Error(`${key}: le not increasing`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${key}: bucket counts not monotonic`);
    }
  }
}

/** the samples of one name whose labels include every given pair */
export function find(parsed: Parsed, name: string, labels: Record<string, string> = {}): Sample[] {
  return parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
