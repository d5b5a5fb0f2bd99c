// The runtime's own sockets: Bun.connect on Bun, Deno.connect on Deno (each measured faster than
// the runtime's node:net for small keep-alive exchanges; numbers in docs of http1/index.ts).
import { bunConnect } from "./bun-transport.ts";
import { denoConnect } from "./deno-transport.ts";
import type { Connect } from "./transport.ts";

export const defaultConnect: Connect = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? bunConnect : denoConnect;
