// Istio YAML from Consul KV: every key under a prefix ending in .yaml or .yml holds one file (one
// or more YAML documents). The registry hands the documents on as config resources, which the
// proxies load and validate like files (runtime/model/registry-resources.ts), so a bad document
// is reported with its key and the last good config keeps serving.
import { parseAllDocuments } from "yaml";
import type { RegistryResource } from "../../runtime/model/types.ts";

/** the fields of a /v1/kv/<prefix>?recurse entry dietmesh reads (Value is base64) */
export interface KvRead {
  Key: string;
  Value: string | null;
  ModifyIndex: number;
}

const YAML_KEY = /\.ya?ml$/;

/** a key that changed nothing (same keys, same ModifyIndex) gives the same string */
export function kvVersion(entries: readonly KvRead[]): string {
  return entries.filter((e) => YAML_KEY.test(e.Key)).map((e) => `${e.Key}@${e.ModifyIndex}`).join("\n");
}

function decode(base64: string): string {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

/** the documents of every YAML key; a key whose YAML does not parse is reported and left out */
export function kvResources(entries: readonly KvRead[], log?: (message: string) => void): RegistryResource[] {
  const out: RegistryResource[] = [];
  for (const entry of entries) {
    if (!YAML_KEY.test(entry.Key) || !entry.Value) continue;
    const docs = parseAllDocuments(decode(entry.Value));
    const broken = docs.find((d) => d.errors.length);
    if (broken) {
      log?.(`consul: kv ${entry.Key} (ModifyIndex ${entry.ModifyIndex}) is not YAML: ${broken.errors[0].message.split("\n")[0]}; left out`);
      continue;
    }
    docs.forEach((doc, i) => {
      const object = doc.toJS();
      if (object !== null && object !== undefined) out.push({ ref: `consul:kv/${entry.Key}#${i + 1}`, object });
    });
  }
  return out;
}
