// The HTTP/2 connection pool of one cluster: one session per upstream address (h2c, or h2 inside
// mesh mTLS for the addresses tlsFor names: one connection per peer sidecar), streams
// multiplexed on it, a second session only when the first is at the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS or the DestinationRule's maxConcurrentStreams, the lower of the
// two (or at maxRequestsPerConnection, after which a session is retired
// with GOAWAY and its streams finish). maxConnections counts sessions of the whole cluster, opening
// ones included; a request that finds every session full with the cluster at that limit waits in
// one FIFO queue, bounded by maxPendingRequests (beyond it: overflow at once). Sessions with no
// stream for idleTimeoutMs are closed. Requests while a session is still connecting wait for it
// rather than opening one each (the point of HTTP/2).
import { UpstreamError, type H2ClientSession, type UpstreamRequest } from "../../platform/types.ts";
import type { ConnectionPool, PoolLimits, PoolStats } from "../pool-types.ts";
import type { HttpResponse } from "../../exchange/types.ts";
import { unrefTimer } from "../../platform/http1/timers.ts";
import { parseAddress, toH2Request, toResponse } from "./messages.ts";
import type { TlsTarget } from "../http1/index.ts";

/** opens a session to hostname:port, over mTLS when tls is given (the platform's by default; tests inject one) */
export type H2Connect = (hostname: string, port: number, connectTimeoutMs: number, tls?: TlsTarget) => Promise<H2ClientSession>;

export interface H2PoolOptions {
  connect: H2Connect;
  /** how an address is reached over TLS (mesh mTLS, origination); null: plaintext (h2c) */
  tlsFor?(hostname: string, port: number): TlsTarget | null;
  /** a reason this address must not be reached over h2c (it needs TLS, not built yet); undefined: go */
  refuse?(hostname: string, port: number): string | undefined;
}

interface Entry {
  readonly session: H2ClientSession;
  readonly address: string;
  /** streams started on it, for maxRequestsPerConnection */
  used: number;
  /** at maxRequestsPerConnection: no new streams, closed once its last stream has its answer */
  retired?: boolean;
  idleTimer?: ReturnType<typeof setTimeout>;
}

interface Waiter {
  address: string;
  start(entry: Entry): void;
  fail(error: Error): void;
}

const MAX_TIMER = 2_147_483_647;

export function createHttp2Pool(limits: PoolLimits, options: H2PoolOptions): ConnectionPool {
  return new Http2Pool(limits, options);
}

class Http2Pool implements ConnectionPool {
  private limits: PoolLimits;
  private readonly sessions = new Map<string, Entry[]>();
  /** sessions still connecting, by address: requests for it wait there */
  private readonly connecting = new Map<string, Waiter[]>();
  private readonly pending: Waiter[] = [];
  private total = 0;
  private opened = 0;
  private overflows = 0;
  private closed = false;

  constructor(limits: PoolLimits, private readonly options: H2PoolOptions) {
    this.limits = { ...limits };
  }

  send(address: string, request: UpstreamRequest): Promise<HttpResponse> {
    if (request.signal?.aborted) return Promise.reject(new UpstreamError("aborted", "request aborted"));
    const { hostname, port } = parseAddress(address);
    const refused = this.options.refuse?.(hostname, port);
    if (refused) return Promise.reject(new UpstreamError("connect", refused));
    const ready = this.free(address);
    if (ready) return this.start(ready, request);
    return new Promise<HttpResponse>((resolve, reject) => {
      const waiter: Waiter = { address, start: (entry) => this.start(entry, request).then(resolve, reject), fail: reject };
      const joining = this.connecting.get(address);
      if (joining) return void joining.push(waiter);
      if (this.total < this.limits.maxConnections) return this.open(address, hostname, port, waiter);
      if (this.pending.length >= this.limits.maxPendingRequests) {
        this.overflows++;
        return reject(new UpstreamError("overflow", "too many requests waiting for an HTTP/2 stream"));
      }
      this.pending.push(waiter);
    });
  }

  /** a session to address with room for one more stream */
  private free(address: string): Entry | undefined {
    const list = this.sessions.get(address);
    if (!list) return undefined;
    const cap = this.limits.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    for (const entry of list) {
      if (!entry.retired && !entry.session.gone && entry.session.active < Math.min(entry.session.maxStreams, cap)) return entry;
    }
    return undefined;
  }

  private start(entry: Entry, request: UpstreamRequest): Promise<HttpResponse> {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.used++;
    const { head, body, trailers } = toH2Request(request, entry.address);
    const response = entry.session.request(head, body, trailers, request.signal);
    const max = this.limits.maxRequestsPerConnection;
    if (max > 0 && entry.used >= max) {
      // retired: GOAWAY only once this stream has its answer (or failed), as Deno's node:http2
      // refuses (REFUSED_STREAM) a stream whose HEADERS were not yet sent when the session closes;
      // streams in flight finish either way
      entry.retired = true;
      const retire = () => entry.session.close();
      response.then(retire, retire);
    }
    return response.then(toResponse);
  }

  private open(address: string, hostname: string, port: number, first: Waiter): void {
    const waiters = [first];
    this.connecting.set(address, waiters);
    this.total++;
    this.opened++;
    this.options.connect(hostname, port, this.limits.connectTimeoutMs, this.options.tlsFor?.(hostname, port) ?? undefined).then(
      (session) => {
        this.connecting.delete(address);
        if (this.closed) {
          session.close();
          for (const w of waiters) w.fail(new UpstreamError("reset", "pool closed"));
          return;
        }
        const entry: Entry = { session, address, used: 0 };
        const list = this.sessions.get(address) ?? [];
        list.push(entry);
        this.sessions.set(address, list);
        session.onGone(() => this.gone(entry));
        session.onStreamClose(() => this.streamClosed(entry));
        // more waiters than the peer allows streams: the rest go on as if newly arrived
        for (const w of waiters) this.dispatch(w);
      },
      (error: Error) => {
        this.connecting.delete(address);
        this.total--;
        for (const w of waiters) w.fail(error);
        this.drainPending();
      },
    );
  }

  /** a waiter once more: a free stream, a session opening, a new session, or the queue */
  private dispatch(waiter: Waiter): void {
    const entry = this.free(waiter.address);
    if (entry) return waiter.start(entry);
    const joining = this.connecting.get(waiter.address);
    if (joining) return void joining.push(waiter);
    if (this.total < this.limits.maxConnections) {
      const { hostname, port } = parseAddress(waiter.address);
      return this.open(waiter.address, hostname, port, waiter);
    }
    this.pending.push(waiter); // already counted: it was admitted once
  }

  private streamClosed(entry: Entry): void {
    this.drainPending();
    if (entry.session.active > 0 || entry.session.gone || entry.idleTimer) return;
    entry.idleTimer = unrefTimer(setTimeout(() => {
      entry.idleTimer = undefined;
      if (entry.session.active === 0) entry.session.close();
    }, Math.min(this.limits.idleTimeoutMs, MAX_TIMER)));
  }

  private gone(entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    const list = this.sessions.get(entry.address);
    const at = list?.indexOf(entry) ?? -1;
    if (at < 0) return;
    list!.splice(at, 1);
    if (!list!.length) this.sessions.delete(entry.address);
    this.total--;
    this.drainPending();
  }

  /** queued requests, oldest first, while streams or session slots are free */
  private drainPending(): void {
    while (this.pending.length) {
      const waiter = this.pending[0];
      if (!this.free(waiter.address) && !this.connecting.has(waiter.address) && this.total >= this.limits.maxConnections) return;
      this.pending.shift();
      this.dispatch(waiter);
    }
  }

  setLimits(limits: PoolLimits): void {
    this.limits = { ...limits };
    this.drainPending();
  }

  stats(): PoolStats {
    let active = 0;
    let idle = 0;
    let connections = 0;
    for (const list of this.sessions.values()) {
      for (const entry of list) {
        connections++;
        active += entry.session.active;
        if (entry.session.active === 0) idle++;
      }
    }
    return { connections, active, idle, pending: this.pending.length, opened: this.opened, overflows: this.overflows };
  }

  close(): void {
    this.closed = true;
    for (const w of this.pending.splice(0)) w.fail(new UpstreamError("reset", "pool closed"));
    for (const list of this.sessions.values()) for (const entry of list) entry.session.close();
  }
}
