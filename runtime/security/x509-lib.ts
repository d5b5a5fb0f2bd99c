// The one door to @peculiar/x509. That library's dependency injection (tsyringe) refuses to load
// without a Reflect metadata API; it only stores and reads back a few metadata keys, so a tiny
// WeakMap-backed stand-in does instead of another dependency. Bun evaluates a statically imported
// CommonJS package before this module's own code, so the library is imported dynamically, after
// the stand-in is in place. Everything else imports `x509` from here, never the package itself.

type Metadata = Map<unknown, unknown>;
const store = new WeakMap<object, Metadata>();
const reflect = Reflect as unknown as Record<string, unknown>;

if (typeof reflect.getMetadata !== "function") {
  const own = (target: object, create: boolean): Metadata | undefined => {
    let m = store.get(target);
    if (!m && create) store.set(target, (m = new Map()));
    return m;
  };
  reflect.defineMetadata = (key: unknown, value: unknown, target: object) => void own(target, true)!.set(key, value);
  reflect.getOwnMetadata = (key: unknown, target: object) => own(target, false)?.get(key);
  reflect.getMetadata = (key: unknown, target: object) => {
    for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
      const m = own(o, false);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

export type X509Lib = typeof import("@peculiar/x509");
export const x509: X509Lib = await import("@peculiar/x509");
