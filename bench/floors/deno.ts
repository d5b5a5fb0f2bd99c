// The few Deno APIs the Deno floors use, typed here so the repository's one tsconfig (bun-types)
// checks these files too. Only the bench's floor servers import it.
export interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  setNoDelay(noDelay?: boolean): void;
  close(): void;
}

interface DenoApi {
  args: string[];
  listen(options: { hostname: string; port: number }): AsyncIterable<DenoConn> & { addr: { port: number } };
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
}

export const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

/** the value of --port (0 when absent) and of any other --name flags */
export function flags(): Record<string, string> {
  const out: Record<string, string> = { port: "0" };
  const args = Deno.args;
  for (let i = 0; i < args.length - 1; i++) if (args[i].startsWith("--")) out[args[i].slice(2)] = args[++i];
  return out;
}
