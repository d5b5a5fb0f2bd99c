// Shared bits for the HTTP/1.1 client tests: pools with test limits, polling with a deadline,
// request builders, and streams that produce bodies on demand.
import { createConnectionPool, DEFAULT_POOL_LIMITS, type ConnectionPool, type PoolLimits } from "../../../runtime/upstream/http1/index.ts";
import type { PoolOptions } from "../../../runtime/upstream/http1/pool.ts";
import { UpstreamError, type UpstreamRequest } from "../../../runtime/platform/types.ts";
import { toWebResponse } from "../../../runtime/exchange/web-request.ts";

export const pools: ConnectionPool[] = [];

/** a pool whose answers are Web Responses, for reading bodies with text() */
export interface WebPool extends Omit<ConnectionPool, "send"> {
  send(address: string, request: UpstreamRequest): Promise<Response>;
  readonly raw: ConnectionPool;
}

export function pool(limits: Partial<PoolLimits> = {}, options: PoolOptions = {}): WebPool {
  const p = createConnectionPool({ ...DEFAULT_POOL_LIMITS, ...limits }, options);
  pools.push(p);
  return {
    raw: p,
    send: (address, request) => p.send(address, request).then(toWebResponse),
    setLimits: (limits) => p.setLimits(limits),
    stats: () => p.stats(),
    close: () => p.close(),
  };
}

export function closePools(): void {
  for (const p of pools.splice(0)) p.close();
}

export function get(address: string, target = "/", init: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    url: `http://${address}${target}`,
    method: "GET",
    headers: new Headers({ host: address }),
    body: null,
    ...init,
  };
}

/** polls cond every few ms until it holds or the deadline passes */
export async function waitFor(cond: () => boolean, what: string, deadlineMs = 3000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** the failure of a rejected send, or "ok" */
export async function outcome(p: Promise<Response>): Promise<string> {
  try {
    const r = await p;
    await r.arrayBuffer();
    return "ok";
  } catch (error) {
    return error instanceof UpstreamError ? error.failure : `other: ${(error as Error).message}`;
  }
}

export function bytesOf(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 255;
  return out;
}

/** a stream of the given chunks; each next chunk waits for gate(i) when given */
export function streamOf(chunks: Uint8Array[], gate?: (i: number) => Promise<void>): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i === chunks.length) return controller.close();
      if (gate) await gate(i);
      controller.enqueue(chunks[i++]);
    },
  });
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
