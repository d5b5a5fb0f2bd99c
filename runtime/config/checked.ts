// A config checked ahead of time (issue 16): `dietmesh check --emit FILE PATH...` validates the
// files as a sidecar would and, when nothing is an error, writes what validation produced — each
// file's entries (validated resources, notices, skipped kinds) — sealed with dietmesh's version and
// a digest. The library takes it as its `resources` (`createMesh({ resources: [checked] })`) and
// assembles it without zod: the schemas are ~35 ms of a Bun cold start, a serverless function's
// whole budget (docs/performance.md). A file made by another dietmesh version is refused (its
// schemas may differ), and so is one changed after it was sealed: the digest catches an edit or
// a merge; it is no signature — whoever can write the file can write the config anyway.
import type { FileEntry } from "./assemble.ts";
import { hex } from "../security/der.ts";

export const CHECKED_API_VERSION = "dietmesh.dev/v1";
export const CHECKED_KIND = "CheckedConfig";

export interface CheckedConfig {
  apiVersion: typeof CHECKED_API_VERSION;
  kind: typeof CHECKED_KIND;
  /** the dietmesh version whose schemas checked it */
  version: string;
  /** SHA-256 of JSON.stringify([version, files]), hex */
  digest: string;
  /** per file checked, its entries in order (config/assemble.ts puts them together) */
  files: FileEntry[][];
}

export function isCheckedConfig(value: unknown): value is { kind: string; apiVersion: string } {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === CHECKED_KIND && (value as { apiVersion?: unknown }).apiVersion === CHECKED_API_VERSION;
}

export async function sealChecked(entries: FileEntry[][], version: string): Promise<CheckedConfig> {
  // a JSON copy: what is sealed is what a reader of the file will parse, and later changes to the
  // loader's own objects cannot reach it
  const files = JSON.parse(JSON.stringify(entries)) as FileEntry[][];
  return { apiVersion: CHECKED_API_VERSION, kind: CHECKED_KIND, version, digest: await digestOf(version, files), files };
}

/** the files' entries, or why this CheckedConfig cannot be used as it is */
export async function openChecked(value: { [key: string]: unknown }, version: string): Promise<{ files: FileEntry[][] } | { problem: string }> {
  if (value.version !== version) {
    return { problem: `a CheckedConfig made by dietmesh ${JSON.stringify(value.version)} cannot be used by dietmesh ${version}: run \`dietmesh check --emit\` again with this version` };
  }
  if (!Array.isArray(value.files) || !value.files.every(Array.isArray) || typeof value.digest !== "string") {
    return { problem: "a CheckedConfig needs files (an array of arrays) and a digest, as `dietmesh check --emit` writes it" };
  }
  const files = value.files as FileEntry[][];
  if ((await digestOf(version, files)) !== value.digest) {
    return { problem: "this CheckedConfig was changed after `dietmesh check --emit` sealed it: check the config again (edit the YAML, not the checked file)" };
  }
  return { files };
}

/** SHA-256 of the JSON text, hex (WebCrypto: native on both runtimes, ~1 ms for 200 KB) */
async function digestOf(version: string, files: FileEntry[][]): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify([version, files])))));
}
