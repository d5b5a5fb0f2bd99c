// A small flag parser: each command declares its flags once, and gets --help text and one-line
// errors (exit 2) from the same table. Hand-written because the usual parsers are node: modules,
// which only runtime/platform/ may import.

export interface FlagSpec {
  name: string;
  /** "string": one value; "list": repeatable; "boolean": no value */
  kind: "string" | "list" | "boolean";
  value?: string; // placeholder in help, e.g. "HOST:PORT"
  /** a one-letter alias, e.g. "o" for -o (istioctl's habits) */
  short?: string;
  default?: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
}

export type ParsedFlags = {
  strings: Record<string, string | undefined>;
  lists: Record<string, string[]>;
  booleans: Record<string, boolean>;
  positionals: string[];
};

export class UsageError extends Error {}

export function parseFlags(spec: CommandSpec, argv: string[]): ParsedFlags {
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const out: ParsedFlags = { strings: {}, lists: {}, booleans: {}, positionals: [] };
  for (const f of spec.flags) {
    if (f.kind === "string") out.strings[f.name] = f.default;
    if (f.kind === "list") out.lists[f.name] = [];
    if (f.kind === "boolean") out.booleans[f.name] = false;
  }
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    // -o json → --output json; -ojson → --output=json
    if (/^-[a-zA-Z]/.test(arg) && byShort.has(arg[1])) arg = arg.length > 2 ? `--${byShort.get(arg[1])!.name}=${arg.slice(2)}` : `--${byShort.get(arg[1])!.name}`;
    if (!arg.startsWith("--") || arg === "--") {
      if (arg !== "--") out.positionals.push(arg);
      else out.positionals.push(...argv.slice(i + 1));
      if (arg === "--") break;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const flag = byName.get(name);
    if (!flag) throw new UsageError(`unknown flag --${name} (see dietmesh ${spec.name} --help)`);
    if (flag.kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      out.booleans[name] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value (${flag.value ?? "VALUE"})`);
    if (flag.kind === "list") out.lists[name].push(value);
    else out.strings[name] = value;
  }
  return out;
}

export function helpText(spec: CommandSpec): string {
  const rows = spec.flags.map((f) => {
    const left = `  ${f.short ? `-${f.short}, ` : ""}--${f.name}${f.kind === "boolean" ? "" : ` ${f.value ?? "VALUE"}`}`;
    const def = f.default !== undefined ? ` (default ${f.default})` : f.kind === "list" ? " (repeatable)" : "";
    return `${left.padEnd(34)} ${f.help}${def}`;
  });
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nFlags:\n${rows.join("\n")}\n  --help                             this text\n`;
}

/** "app=hello,version=v1" → { app: "hello", version: "v1" } */
export function parseLabels(value: string | undefined, flag = "--labels"): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const pair of value.split(",")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`${flag}: expected key=value[,key=value...], got "${pair}"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}
