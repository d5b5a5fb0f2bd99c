// The spelling service of the seed's demo behind a sidecar (see spelling-app.ts for what it does).
// It calls plain http://alphabet-service:8080/... URLs with the runtime's fetch, which sends them
// through HTTP_PROXY (the sidecar's outbound listener) on Bun and on Deno alike.
// Usage: HTTP_PROXY=http://127.0.0.1:15001 spelling.ts --port N [--host 127.0.0.1] [--timeout-ms 2000]
import { platform } from "../../runtime/platform/index.ts";
import { flag, spellingHandler } from "./spelling-app.ts";

const server = platform.serve({
  hostname: flag("host", "127.0.0.1"),
  port: Number(flag("port", "0")),
  handler: spellingHandler((url, init) => fetch(url, init)),
});
console.log(`spelling-service listening on ${server.hostname}:${server.port}${platform.env("HTTP_PROXY") ? `, calling through ${platform.env("HTTP_PROXY")}` : ""}`);
