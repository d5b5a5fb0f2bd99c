// A small flag parser: each command declares its flags once, and gets --help text, one-line errors
// (exit 2) and DIETMESH_<FLAG> environment variables from the same table. Hand-written because the
// usual parsers are node: modules, which only runtime/platform/ may import.
import { platform } from "../platform/index.ts";

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
  /** the flags named on the command line (not those from DIETMESH_<FLAG> or defaults) */
  given?: ReadonlySet<string>;
};

export class UsageError extends Error {}

/** DIETMESH_ACCESS_LOG for --access-log: every flag can also come from the environment */
export function envName(flag: string): string {
  return `DIETMESH_${flag.toUpperCase().replaceAll("-", "_")}`;
}

const processEnv = (name: string) => platform.env(name);

/**
 * argv over the environment over the defaults: a flag given on the command line wins, then
 * DIETMESH_<FLAG> (a list flag's value comma-separated, a boolean flag's "true"/"1" or
 * "false"/"0"), then the flag's default.
 */
export function parseFlags(spec: CommandSpec, argv: string[], env: (name: string) => string | undefined = processEnv): ParsedFlags {
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const byShort = new Map(spec.flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const given = new Set<string>();
  const out: ParsedFlags = { strings: {}, lists: {}, booleans: {}, positionals: [], given };
  /** list flags whose values came from the environment: the command line replaces them */
  const fromEnv = new Set<string>();
  for (const f of spec.flags) {
    const value = env(envName(f.name));
    if (f.kind === "string") out.strings[f.name] = value ?? f.default;
    if (f.kind === "list") {
      out.lists[f.name] = value ? value.split(",").map((v) => v.trim()).filter(Boolean) : [];
      if (value) fromEnv.add(f.name);
    }
    if (f.kind === "boolean") {
      if (value === undefined || value === "" || value === "false" || value === "0") out.booleans[f.name] = false;
      else if (value === "true" || value === "1") out.booleans[f.name] = true;
      else throw new UsageError(`${envName(f.name)}: expected true, false, 1 or 0, got "${value}"`);
    }
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
    given.add(name);
    if (flag.kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      out.booleans[name] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new UsageError(`--${name} needs a value (${flag.value ?? "VALUE"})`);
    if (flag.kind === "list") {
      if (fromEnv.delete(name)) out.lists[name] = [];
      out.lists[name].push(value);
    }
    else out.strings[name] = value;
  }
  return out;
}

export function helpText(spec: CommandSpec): string {
  const rows = spec.flags.map((f) => {
    const left = `  ${f.short ? `-${f.short}, ` : ""}--${f.name}${f.kind === "boolean" ? "" : ` ${f.value ?? "VALUE"}`}`;
    // the renderer alone says "(repeatable)"; an empty default ("" for none) says nothing
    const def = `${f.default ? ` (default ${f.default})` : ""}${f.kind === "list" ? " (repeatable)" : ""}`;
    return `${left.padEnd(34)} ${f.help}${def}`;
  });
  return `${spec.summary}\n\nUsage: ${spec.usage}\n\nFlags:\n${rows.join("\n")}\n  --help                             this text\n\nEvery flag can also be set in the environment as DIETMESH_<FLAG> (e.g. ${envName(spec.flags[0]?.name ?? "access-log")}); the command line wins.\n`;
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
