// credentialName from Kubernetes Secrets (--registry kubernetes): each named Secret of the proxy's
// namespace is listed and watched on its own, by fieldSelector metadata.name=NAME, so a proxy never
// lists a namespace's Secrets and needs only get/list/watch on the ones it names (docs/kubernetes.md).
// A name is watched from its first use on (a Gateway server or a DestinationRule that names it); its
// NAME-cacert companion (Istio's convention for a CA kept apart) only when a CA is wanted. The data
// is kept decoded; an update is served to the next connection, and watchers are told.
import { z } from "zod";
import { systemClock, type Clock, type TimerHandle } from "../../runtime/lib/clock.ts";
import { backoffDelay, type BackoffOptions } from "../../runtime/model/registry-recover.ts";
import { CACERT_SUFFIX, checkCredentialName, materialOf, type CredentialSource } from "../../runtime/security/credential-source.ts";
import { kubeClient, type KubeClient } from "./client.ts";
import type { KubeOptions } from "./options.ts";
import { reflect } from "./reflector.ts";
import { kubeFetch } from "./transport.ts";

export interface SecretCredentialsOptions {
  client: KubeClient;
  /** where the Secrets are: the proxy's namespace, as Istio reads a gateway's credentials */
  namespace: string;
  clock?: Clock;
  random?: () => number;
  log?: (message: string) => void;
  /** between attempts after a failed list (forbidden, server gone) */
  backoff?: BackoffOptions;
  /** how long a read waits for a Secret's first list before giving up on this use (default 10 s) */
  firstListMs?: number;
  watchTimeoutSeconds?: { min: number; max: number };
}

const secretSchema = z.object({
  metadata: z.object({ name: z.string() }),
  data: z.record(z.string(), z.string()).nullish(),
});

interface Watched {
  /** decoded data; undefined: no such Secret (or not listed yet) */
  data?: Record<string, string>;
  listed: boolean;
  /** why the last list failed; cleared by the next good one */
  problem?: string;
  waiters: (() => void)[];
  listeners: Set<() => void>;
}

export function secretCredentials(o: SecretCredentialsOptions): CredentialSource {
  const clock = o.clock ?? systemClock;
  const random = o.random ?? Math.random;
  const log = o.log ?? (() => {});
  const stop = new AbortController();
  const secrets = new Map<string, Watched>();
  const timers = new Set<TimerHandle>();
  const path = `/api/v1/namespaces/${encodeURIComponent(o.namespace)}/secrets`;
  const where = `in namespace ${o.namespace}`;

  function settled(w: Watched): void {
    for (const wake of w.waiters.splice(0)) wake();
  }

  function start(name: string): Watched {
    let w = secrets.get(name);
    if (w) return w;
    w = { listed: false, waiters: [], listeners: new Set() };
    secrets.set(name, w);
    const entry = w;
    const changed = (data: Record<string, string> | undefined) => {
      const before = JSON.stringify(entry.data ?? null);
      entry.data = data;
      if (JSON.stringify(data ?? null) !== before) for (const listener of entry.listeners) listener();
    };
    void (async () => {
      for (let attempt = 0; !stop.signal.aborted; attempt++) {
        try {
          await reflect<{ name: string; data: Record<string, string> }>({
            client: o.client, path, fieldSelector: `metadata.name=${name}`, name: `secret ${name}`,
            parse: (raw) => {
              const s = secretSchema.safeParse(raw);
              return s.success ? { name: s.data.metadata.name, data: decode(s.data.data ?? {}) } : undefined;
            },
            key: (s) => s.name,
            replace(items) {
              attempt = 0;
              if (entry.problem) log(`credential ${name}: Secret ${where} readable again`);
              entry.problem = undefined;
              entry.listed = true;
              changed(items.get(name)?.data);
              settled(entry);
            },
            change: (type, _key, s) => changed(type === "DELETED" ? undefined : s.data),
            pageSize: 50,
            watchTimeoutSeconds: () => { const t = o.watchTimeoutSeconds ?? { min: 300, max: 600 }; return Math.round(t.min + (t.max - t.min) * random()); },
            watchBackoff: o.backoff ?? {},
            clock, random, signal: stop.signal, log,
          });
        } catch (error) {
          const problem = `cannot list Secret ${name} ${where}: ${(error as Error).message}`;
          if (problem !== entry.problem) log(`credential ${name}: ${problem}`);
          entry.problem = problem;
          settled(entry);
          await new Promise<void>((resolve) => {
            const timer = clock.setTimeout(() => (timers.delete(timer), resolve()), backoffDelay(attempt, o.backoff ?? {}, random));
            timers.add(timer);
            stop.signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
      }
    })();
    return w;
  }

  /** the Secret's data once it has been listed (or why it cannot be) */
  async function current(name: string): Promise<Record<string, string> | undefined> {
    const w = start(name);
    if (!w.listed && !w.problem) {
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(() => (timers.delete(timer), resolve()), o.firstListMs ?? 10_000);
        timers.add(timer);
        w.waiters.push(() => (clock.clearTimeout(timer), timers.delete(timer), resolve()));
      });
    }
    if (!w.listed) throw new Error(`credential ${name}: ${w.problem ?? `Secret ${name} ${where} not listed yet`}`);
    return w.data;
  }

  return {
    origin: `Secrets in namespace ${o.namespace}`,
    async read(name, want) {
      checkCredentialName(name);
      const caName = want.ca === "none" ? undefined : `${name}${CACERT_SUFFIX}`;
      const [own, ca] = await Promise.all([current(name), caName ? current(caName) : Promise.resolve(undefined)]);
      return materialOf(name, own, ca, want, where);
    },
    watch(name, ca, onChange) {
      checkCredentialName(name);
      const names = ca ? [name, `${name}${CACERT_SUFFIX}`] : [name];
      for (const n of names) start(n).listeners.add(onChange);
      return () => {
        for (const n of names) secrets.get(n)?.listeners.delete(onChange);
      };
    },
    close() {
      stop.abort();
      for (const timer of timers) clock.clearTimeout(timer);
      timers.clear();
    },
  };
}

/** a Secret's data values are base64; credentials are PEM text */
function decode(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    try {
      const bytes = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
      out[key] = new TextDecoder().decode(bytes);
    } catch {
      // not base64: left out, so the role reads as missing
    }
  }
  return out;
}

/** the source from the registry's connection (--kubeconfig, else in-cluster) */
export function secretCredentialsFrom(options: KubeOptions, namespace: string): CredentialSource {
  const client = kubeClient(options, kubeFetch(options, options.tls, options.log));
  return secretCredentials({ client, namespace, clock: options.clock, random: options.random, log: options.log, backoff: options.backoff });
}
