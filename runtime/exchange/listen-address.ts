// A listener's HOST:PORT, parsed apart from the listeners themselves: the CLI and the library
// read addresses without loading the HTTP/1.1 server.
export interface ListenAddress {
  hostname: string;
  port: number;
}

/** "127.0.0.1:15001", "[::1]:80", ":8080" (all interfaces) or "8080" */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { hostname: m[1] ?? (m[2] || "0.0.0.0"), port };
}
