// `npm run consul-agent -- --port N [--token T] [--datacenter DC]`: the fake Consul agent as a
// process, for trying dietmesh's Consul registry by hand (no consul binary ships in Debian).
import { platform } from "../../runtime/platform/index.ts";
import { startConsulAgent } from "./consul-agent.ts";

const args = platform.args();
function flag(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
}

const port = Number(flag("port") ?? 8500);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`consul-agent: --port must be a port number, got "${flag("port")}"`);
  platform.exit(2);
}
const agent = startConsulAgent({ port, token: flag("token"), datacenter: flag("datacenter") });
console.log(`consul-agent listening on 127.0.0.1:${agent.port}`);
const stop = () => void agent.stop().then(() => platform.exit(0));
platform.onSignal("SIGINT", stop);
platform.onSignal("SIGTERM", stop);
