// The connection pool of one cluster, with Envoy's circuit-breaker semantics held on the wire:
// maxConnections counts every opening, open or closing connection of the cluster (all hosts
// together; a connection we close keeps its slot until the upstream has closed its side too), a
// request that finds no free connection with the cluster at its limit waits in one FIFO queue,
// and when that queue is full it fails at once with "overflow". As in Envoy, a request waiting for
// the connection it caused to be opened counts as pending too, so with http1MaxPendingRequests 1 a
// second request that arrives while the first connection is still opening overflows. Connections are kept per address
// (LIFO, so the warmest is reused and the coldest idles out) and closed after idleTimeoutMs.
//
// Where Envoy would open one more connection for a host that has none (it lets the cluster go over
// the limit so that host is not starved), this pool stays at the limit: it closes an idle
// connection of another host instead, or hands the next freed slot to the oldest waiter,
// whichever host it is for.
import { UpstreamError, type UpstreamRequest } from "../../platform/types.ts";
import type { ConnectionPool, PoolLimits, PoolStats } from "../pool-types.ts";
import { Connection, IDLE, type ConnectionOwner, type HostEntry } from "./connection.ts";
import { Exchange, WAITING, type ExchangeOwner } from "./request-exchange.ts";
import type { Connect, Transport } from "../../platform/http1/transport.ts";
import { defaultConnect } from "../../platform/http1/default-connect.ts";
import { unrefTimer } from "../../platform/http1/timers.ts";
import type { HttpResponse } from "../../exchange/types.ts";

export interface PoolOptions {
  /** opens sockets; the runtime's own by default (tests inject one) */
  connect?: Connect;
}

/** setTimeout's longest delay (2^31 - 1 ms); longer ones fire at once */
const MAX_TIMER = 2_147_483_647;

const NO_TRANSPORT: Transport = { write: () => true, pause() {}, resume() {}, ref() {}, end() {}, destroy() {} };

function connectTimeout(conn: Connection): void {
  conn.connectTimedOut();
}

function sweepIdle(pool: Pool): void {
  pool.sweep();
}

function parseAddress(address: string): { hostname: string; port: number } {
  if (address.startsWith("[")) {
    const close = address.indexOf("]");
    const port = address.charCodeAt(close + 1) === 58 ? Number(address.slice(close + 2)) : 80;
    return { hostname: address.slice(1, close), port };
  }
  const colon = address.lastIndexOf(":");
  if (colon < 0) return { hostname: address, port: 80 };
  return { hostname: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

class Pool implements ConnectionPool, ConnectionOwner, ExchangeOwner {
  limits: PoolLimits;
  readonly hosts = new Map<string, HostEntry>();
  readonly pending: Exchange[] = [];
  total = 0;
  idleCount = 0;
  /** half-closed connections still holding a slot */
  closing = 0;
  /** requests whose new connection is still opening: pending, in Envoy's accounting */
  connecting = 0;
  opened = 0;
  overflows = 0;
  sweepTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    limits: PoolLimits,
    readonly connect: Connect,
  ) {
    this.limits = { ...limits };
  }

  send(address: string, request: UpstreamRequest): Promise<HttpResponse> {
    if (request.signal?.aborted) return Promise.reject(new UpstreamError("aborted", "request aborted"));
    let exchange: Exchange;
    try {
      exchange = new Exchange(this, address, request);
    } catch (error) {
      return Promise.reject(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<HttpResponse>();
    exchange.resolve = resolve;
    exchange.reject = reject;
    request.signal?.addEventListener("abort", exchange);
    this.dispatch(exchange);
    return promise;
  }

  private dispatch(exchange: Exchange): void {
    const host = this.host(exchange.address);
    const idle = this.takeIdle(host);
    if (idle) {
      idle.start(exchange);
      return;
    }
    const pendingFull = this.pending.length + this.connecting >= this.limits.maxPendingRequests;
    if (this.total < this.limits.maxConnections && !pendingFull) {
      this.open(host, exchange);
      return;
    }
    if (pendingFull) {
      this.overflows++;
      exchange.fail(new UpstreamError("overflow", "upstream connection pool overflow"));
      return;
    }
    this.pending.push(exchange);
    // an idle connection (of another host) gives up its slot to the queue once it has closed
    this.closeOldestIdle();
  }

  private host(address: string): HostEntry {
    let host = this.hosts.get(address);
    if (!host) {
      const { hostname, port } = parseAddress(address);
      host = { address, hostname, port, idle: [], all: new Set() };
      this.hosts.set(address, host);
    }
    return host;
  }

  private takeIdle(host: HostEntry): Connection | undefined {
    const conn = host.idle.pop();
    if (conn) {
      this.idleCount--;
      conn.transport.ref(true);
    }
    return conn;
  }

  private closeOldestIdle(): void {
    if (this.idleCount === 0) return;
    let oldest: Connection | undefined;
    for (const host of this.hosts.values()) {
      const first = host.idle[0];
      if (first && (!oldest || first.idleSince < oldest.idleSince)) oldest = first;
    }
    oldest?.close(false);
  }

  private open(host: HostEntry, exchange: Exchange): void {
    const conn = new Connection(this, host);
    this.total++;
    this.opened++;
    host.all.add(conn);
    conn.exchange = exchange;
    conn.holdsPending = true;
    this.connecting++;
    exchange.conn = conn;
    exchange.state = WAITING;
    const limit = this.limits.connectTimeoutMs;
    if (limit > 0 && limit < MAX_TIMER) conn.connectTimer = setTimeout(connectTimeout, limit, conn);
    try {
      conn.transport = this.connect(host.hostname, host.port, conn);
    } catch (error) {
      conn.transport = NO_TRANSPORT;
      conn.onClose(error as Error); // e.g. an address the runtime refuses outright
    }
  }

  // ---- ConnectionOwner ----

  released(conn: Connection): void {
    const limits = this.limits;
    if ((limits.maxRequestsPerConnection > 0 && conn.requests >= limits.maxRequestsPerConnection) || this.total > limits.maxConnections) {
      conn.close(false);
      return;
    }
    const next = this.pending[0];
    if (next) {
      if (next.address === conn.host.address) {
        this.pending.shift();
        conn.start(next);
      } else conn.close(false); // the slot goes to the oldest waiter, on its own host
      return;
    }
    conn.state = IDLE;
    conn.idleSince = performance.now();
    conn.host.idle.push(conn);
    this.idleCount++;
    conn.transport.ref(false);
    if (this.sweepTimer === undefined) this.scheduleSweep(this.limits.idleTimeoutMs);
  }

  connected(conn: Connection): void {
    if (conn.holdsPending) {
      conn.holdsPending = false;
      this.connecting--;
    }
  }

  connectionClosing(conn: Connection): void {
    this.leaveIdle(conn);
    if (conn.lingering) this.closing++;
  }

  connectionClosed(conn: Connection, resend: Exchange | null): void {
    const host = conn.host;
    if (!host.all.delete(conn)) return;
    this.total--;
    this.connected(conn); // one that never opened stops counting as pending
    if (conn.lingering) this.closing--;
    this.leaveIdle(conn); // an idle connection the upstream closed
    if (resend) this.open(host, resend); // the keep-alive race: same slot, fresh connection
    else this.servePending();
    if (host.all.size === 0 && this.hosts.get(host.address) === host) this.hosts.delete(host.address);
  }

  private leaveIdle(conn: Connection): void {
    const idle = conn.host.idle;
    const i = idle.indexOf(conn);
    if (i >= 0) {
      idle.splice(i, 1);
      this.idleCount--;
    }
  }

  private servePending(): void {
    while (this.pending.length && this.total < this.limits.maxConnections) {
      const exchange = this.pending.shift()!;
      const host = this.host(exchange.address);
      const idle = this.takeIdle(host);
      if (idle) idle.start(exchange);
      else this.open(host, exchange);
    }
  }

  // ---- ExchangeOwner ----

  removePending(exchange: Exchange): void {
    const i = this.pending.indexOf(exchange);
    if (i >= 0) this.pending.splice(i, 1);
  }

  // ---- idle timeout ----

  private scheduleSweep(delay: number): void {
    if (!(delay < MAX_TIMER)) return; // Infinity or longer than a timer can wait: never idle out
    this.sweepTimer = unrefTimer(setTimeout(sweepIdle, Math.max(1, delay), this));
  }

  sweep(): void {
    this.sweepTimer = undefined;
    const timeout = this.limits.idleTimeoutMs;
    const now = performance.now();
    let next = Infinity;
    for (const host of [...this.hosts.values()]) {
      while (host.idle.length) {
        const oldest = host.idle[0];
        const due = oldest.idleSince + timeout;
        if (due > now) {
          if (due < next) next = due;
          break;
        }
        oldest.close(false);
      }
    }
    if (next !== Infinity) this.scheduleSweep(next - now);
  }

  // ---- ConnectionPool ----

  setLimits(limits: PoolLimits): void {
    const old = this.limits;
    this.limits = { ...limits };
    // over a lowered limit: idle connections go now, busy ones when their response is done
    for (let excess = this.total - this.closing - limits.maxConnections; excess > 0 && this.idleCount > 0; excess--) this.closeOldestIdle();
    if (limits.idleTimeoutMs !== old.idleTimeoutMs && this.sweepTimer !== undefined) {
      clearTimeout(this.sweepTimer);
      this.sweepTimer = undefined;
      this.sweep();
    }
    this.servePending();
  }

  stats(): PoolStats {
    return {
      connections: this.total,
      active: this.total - this.idleCount - this.closing,
      idle: this.idleCount,
      pending: this.pending.length + this.connecting,
      opened: this.opened,
      overflows: this.overflows,
    };
  }

  close(): void {
    const error = new UpstreamError("reset", "connection pool closed");
    for (const exchange of this.pending.splice(0)) exchange.fail(error);
    for (const host of [...this.hosts.values()]) {
      for (const conn of [...host.all]) {
        if (conn.state === IDLE) conn.close(false);
        else conn.fail(error);
      }
    }
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}

export function createConnectionPool(limits: PoolLimits, options: PoolOptions = {}): ConnectionPool {
  return new Pool(limits, options.connect ?? defaultConnect);
}
