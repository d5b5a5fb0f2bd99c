// The packages a config needs, loaded before the synchronous steps that use them (issue 16 cold
// start, issue 10 sidecar RSS): re2js for a regex (a StringMatch's `regex`, a `uriRegexRewrite`),
// which zod validation and route compile run synchronously, and jose for a RequestAuthentication
// (`jwtRules`), so a token's first check finds it loaded. Walks parsed objects or a MeshConfig
// alike; once both are loaded it walks nothing. Nothing is ever imported per request.
import { loadRegexEngine } from "../routing/regex.ts";
import { loadJose } from "../security/policy/jose.ts";

let regexLoaded = false;
let joseLoaded = false;

/**
 * Resources already walked and found to need neither package. They are frozen, so that cannot
 * change; and a reload keeps unchanged resources as the same objects (config-worker.ts), so a
 * one-file change walks that file's resources, not the mesh (measured: 136 ms per reload at 10,000
 * services, every reload of a config with no regex, before this).
 */
const needNothing = new WeakSet<object>();

/** what the walk goes by: a resource list's items, a config's lists' items, else the value itself */
function unitsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value !== "object" || value === null) return [value];
  const units: unknown[] = [];
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (Array.isArray(child)) units.push(...child);
    else units.push(child);
  }
  return units;
}

/** which of the lazily loaded packages a value (objects, a config) needs: a walk that stops early */
export function enginesNeeded(value: unknown): { regex: boolean; jose: boolean } {
  const found = { regex: false, jose: false };
  for (const unit of unitsOf(value)) {
    if (found.regex && found.jose) break;
    if (typeof unit !== "object" || unit === null || needNothing.has(unit)) continue;
    const own = walk(unit, found);
    if (!own.regex && !own.jose && Object.isFrozen(unit)) needNothing.add(unit);
  }
  return found;
}

/** walks one unit, adding to `found` what it needs; returns what this unit alone needs */
function walk(value: object, found: { regex: boolean; jose: boolean }): { regex: boolean; jose: boolean } {
  const own = { regex: false, jose: false };
  const stack: unknown[] = [value];
  const seen = new Set<object>(); // the library's objects come from the caller: a cycle must not hang
  while (stack.length && !(own.regex && own.jose)) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === "object" && item !== null) stack.push(item);
      continue;
    }
    for (const key in v) {
      const child = (v as Record<string, unknown>)[key];
      if (child === undefined) continue;
      if (key === "regex" || key === "uriRegexRewrite") own.regex = found.regex = true;
      else if (key === "jwtRules") own.jose = found.jose = true;
      if (typeof child === "object" && child !== null) stack.push(child);
    }
  }
  return own;
}

/** loads what `value` needs and is not loaded yet; resolves at once when nothing is missing */
export async function loadEnginesFor(value: unknown): Promise<void> {
  if (regexLoaded && joseLoaded) return;
  const needed = enginesNeeded(value);
  const loads: Promise<unknown>[] = [];
  if (needed.regex && !regexLoaded) loads.push(loadRegexEngine().then(() => (regexLoaded = true)));
  if (needed.jose && !joseLoaded) loads.push(loadJose().then(() => (joseLoaded = true)));
  await Promise.all(loads);
}
