// Where the Consul agent is and how to talk to it, resolved once from a URL, options and the
// environment variables Consul's own CLI reads (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_SSL, CONSUL_NAMESPACE).
import type { Clock } from "../../runtime/lib/clock.ts";
import type { BackoffOptions } from "../../runtime/model/registry-recover.ts";

export const DEFAULT_CONSUL_ADDRESS = "http://127.0.0.1:8500";

export interface ConsulOptions {
  /** base URL of the agent's HTTP API, "http://127.0.0.1:8500" */
  address: string;
  /** ACL token, sent as X-Consul-Token */
  token?: string;
  /** ?dc= on every catalog and health read; also adds the <name>.service.<dc>.consul hosts */
  datacenter?: string;
  /** Consul Enterprise namespace (?ns=) */
  namespace?: string;
  /** KV prefix whose .yaml/.yml keys hold Istio config (?kv=), watched like the catalog */
  kvPrefix?: string;
  /** blocking query wait (default 60 s; Consul caps it at 10 min) */
  waitMs?: number;
  /** per watch: this many queries at once, then one per intervalMs (default burst 2, 1 s) */
  rateLimit?: { burst: number; intervalMs: number };
  /**
   * above this many catalog services (counted at a watch's first answer), instances are queried
   * only for the services a proxy uses (default 200, the on-demand compile's size)
   */
  endpointsOnDemandAbove?: number;
  /** a used service's health query stops after it has been unused this long (default 600 s) */
  endpointIdleMs?: number;
  /** how long a first request waits for its service's first health answer (default 5 s) */
  firstAnswerMs?: number;
  /** restart delays after a failure (registry-recover) */
  backoff?: BackoffOptions;
  clock?: Clock;
  random?: () => number;
  log?: (message: string) => void;
  /** each sync and each failed watch (registry-recover's onSync) */
  onSync?: (ok: boolean, atMs: number) => void;
}

export class ConsulConfigError extends Error {
  readonly code = "CONSUL_CONFIG";
}

/**
 * `url` is what follows "consul=" in --registry: "http://host:8500?dc=dc1&ns=team". Without it
 * the address comes from CONSUL_HTTP_ADDR, then the default. A host:port without a scheme is
 * http (https when CONSUL_HTTP_SSL=true), as the consul CLI reads it. The token is never taken
 * from the URL (it would show in `ps`): CONSUL_HTTP_TOKEN.
 */
export function consulOptionsFrom(url: string | undefined, env: (name: string) => string | undefined): ConsulOptions {
  const raw = url || env("CONSUL_HTTP_ADDR") || DEFAULT_CONSUL_ADDRESS;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `${env("CONSUL_HTTP_SSL") === "true" ? "https" : "http"}://${raw}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ConsulConfigError(`consul: "${raw}" is not an address (expected http://HOST:PORT)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConsulConfigError(`consul: ${parsed.protocol} addresses are not supported (use http:// or https://)`);
  }
  if (parsed.searchParams.has("token")) throw new ConsulConfigError("consul: pass the ACL token in CONSUL_HTTP_TOKEN, not in the URL");
  const options: ConsulOptions = { address: `${parsed.protocol}//${parsed.host}` };
  const token = env("CONSUL_HTTP_TOKEN");
  if (token) options.token = token;
  const dc = parsed.searchParams.get("dc");
  if (dc) options.datacenter = dc;
  const ns = parsed.searchParams.get("ns") || env("CONSUL_NAMESPACE");
  if (ns) options.namespace = ns;
  const kv = parsed.searchParams.get("kv");
  if (kv) options.kvPrefix = kv.replace(/^\/+/, "");
  return options;
}
