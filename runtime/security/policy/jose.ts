// jose, loaded when a config has a RequestAuthentication (issue 16 cold start: ~9 ms of import;
// issue 10: ~2–3 MB of a sidecar's RSS) instead of with every proxy. Config load starts the import
// (config/load-engines.ts), so a token's first check finds it loaded; the check awaits it only if
// it was not, and imports it once per process either way.
import type * as Jose from "jose";

let lib: typeof Jose | undefined;
let loading: Promise<typeof Jose> | undefined;

export function loadJose(): Promise<typeof Jose> {
  return (loading ??= import("jose").then((m) => (lib = m)));
}

/** the module, at once when loaded (the usual case on the request path) */
export function jose(): typeof Jose | Promise<typeof Jose> {
  return lib ?? loadJose();
}
