// The packages a config needs, loaded before the synchronous steps that use them (issue 16 cold
// start, issue 10 sidecar RSS): re2js for a regex (a StringMatch's `regex`, a `uriRegexRewrite`),
// which zod validation and route compile run synchronously, and jose for a RequestAuthentication
// (`jwtRules`), so a token's first check finds it loaded. Walks parsed objects or a MeshConfig
// alike; once both are loaded it walks nothing. Nothing is ever imported per request.
import { loadRegexEngine } from "../routing/regex.ts";
import { loadJose } from "../security/policy/jose.ts";

let regexLoaded = false;
let joseLoaded = false;

/** which of the lazily loaded packages a value (objects, a config) needs: a walk that stops early */
export function enginesNeeded(value: unknown): { regex: boolean; jose: boolean } {
  const found = { regex: false, jose: false };
  const stack: unknown[] = [value];
  const seen = new Set<object>(); // the library's objects come from the caller: a cycle must not hang
  while (stack.length && !(found.regex && found.jose)) {
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
      if (key === "regex" || key === "uriRegexRewrite") found.regex = true;
      else if (key === "jwtRules") found.jose = true;
      if (typeof child === "object" && child !== null) stack.push(child);
    }
  }
  return found;
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
