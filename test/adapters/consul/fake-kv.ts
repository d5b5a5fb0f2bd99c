// The fake agent's key/value store, /v1/kv/<key>: GET (?recurse, ?keys, ?separator, ?raw), PUT
// (?flags, ?cas; body is the raw value; answers true/false) and DELETE (?recurse, ?cas). Values
// travel base64-encoded in JSON, as Consul sends them. Every read blocks on the table's index.
export interface KvEntry {
  LockIndex: number;
  Key: string;
  Flags: number;
  Value: Uint8Array | null;
  CreateIndex: number;
  ModifyIndex: number;
}

export interface Reply {
  status: number;
  /** JSON-encoded unless it is a string or bytes (sent as they are) */
  body?: unknown;
  index?: number;
  filtered?: boolean;
}

export type KvTable = ReturnType<typeof createKvTable>;

export function createKvTable(write: () => number) {
  const entries = new Map<string, KvEntry>();
  let index = 1;
  const sorted = (prefix: string) => [...entries.values()].filter((e) => e.Key.startsWith(prefix)).sort((a, b) => (a.Key < b.Key ? -1 : 1));
  return {
    index: () => index,
    get: (key: string) => entries.get(key),
    list: sorted,
    put(key: string, value: Uint8Array, flags: number, cas: number | undefined): boolean {
      const old = entries.get(key);
      if (cas !== undefined && (cas === 0 ? old !== undefined : old?.ModifyIndex !== cas)) return false;
      index = write();
      entries.set(key, { LockIndex: 0, Key: key, Flags: flags, Value: value.length ? value : null, CreateIndex: old?.CreateIndex ?? index, ModifyIndex: index });
      return true;
    },
    delete(key: string, recurse: boolean, cas: number | undefined): boolean {
      const old = entries.get(key);
      if (cas !== undefined && old?.ModifyIndex !== cas) return false;
      const doomed = recurse ? sorted(key).map((e) => e.Key) : old ? [key] : [];
      for (const k of doomed) entries.delete(k);
      index = write(); // a delete is a write too (Consul keeps tombstones so the index never drops)
      return true;
    },
    rewind(to: number): void {
      index = Math.min(index, to);
    },
  };
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function show(entry: KvEntry) {
  return { ...entry, Value: entry.Value ? base64(entry.Value) : null };
}

function cas(params: URLSearchParams): number | undefined {
  const raw = params.get("cas");
  return raw === null ? undefined : Number(raw);
}

/** GET gives a read to run (and re-run while a blocking query waits); PUT and DELETE answer at once */
export function handleKv(kv: KvTable, method: string, key: string, params: URLSearchParams, body: Uint8Array, authorized: boolean): Reply | { read: () => Reply } {
  if (method === "GET") {
    return {
      read: () => {
        const index = kv.index();
        if (params.has("keys")) {
          const separator = params.get("separator") ?? "";
          const keys = new Set<string>();
          for (const e of authorized ? kv.list(key) : []) {
            const cut = separator ? e.Key.indexOf(separator, key.length) : -1;
            keys.add(cut === -1 ? e.Key : e.Key.slice(0, cut + separator.length));
          }
          return keys.size ? { status: 200, body: [...keys], index } : { status: 404, index, filtered: !authorized };
        }
        if (params.has("recurse")) {
          const list = authorized ? kv.list(key) : [];
          return list.length ? { status: 200, body: list.map(show), index } : { status: 404, index, filtered: !authorized };
        }
        if (!authorized) return { status: 403, body: `Permission denied: anonymous token lacks permission 'key:read' on "${key}"` };
        const entry = kv.get(key);
        if (!entry) return { status: 404, index };
        if (params.has("raw")) return { status: 200, body: entry.Value ?? new Uint8Array(), index };
        return { status: 200, body: [show(entry)], index };
      },
    };
  }
  if (!authorized) return { status: 403, body: `Permission denied: anonymous token lacks permission 'key:write' on "${key}"` };
  if (method === "PUT") {
    if (!key) return { status: 400, body: "Missing key name" };
    return { status: 200, body: kv.put(key, body, Number(params.get("flags") ?? 0), cas(params)) };
  }
  if (method === "DELETE") return { status: 200, body: kv.delete(key, params.has("recurse"), cas(params)) };
  return { status: 405, body: `method ${method} not allowed` };
}
