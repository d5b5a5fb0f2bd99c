// `--consul-register AGENT`: a VM's sidecar registers its workload with the local Consul agent —
// the inbound listener as the service's address, the workload's labels as Service.Meta (so
// `version` drives subsets), a TTL check the sidecar keeps passing while it is ready — and
// deregisters when it drains. The check turns critical by itself if the sidecar dies.
import { registerWorkload, type RegisteredWorkload } from "../../adapters/consul/register.ts";
import type { LogLevel } from "./log.ts";

const TTL = "10s";
const PASS_EVERY_MS = 3_000;

export interface ConsulRegistration {
  stop(): Promise<void>;
}

export async function registerWithConsul(options: {
  agent: string;
  name: string;
  /** host the inbound listener is bound to; 0.0.0.0 and :: leave the address to the agent (its node's) */
  address: string;
  port: number;
  meta: Record<string, string>;
  token?: string;
  ready: () => boolean;
  log: (m: string, level?: LogLevel) => void;
}): Promise<ConsulRegistration> {
  const anyAddress = options.address === "0.0.0.0" || options.address === "::" || options.address === "[::]";
  const workload: RegisteredWorkload = await registerWorkload({
    agent: options.agent,
    name: options.name,
    id: `${options.name}-${options.port}`,
    address: anyAddress ? undefined : options.address,
    port: options.port,
    meta: options.meta,
    checkTtl: TTL,
    deregisterCriticalAfter: "1m",
    token: options.token,
  });
  options.log(`registered ${workload.id} with Consul at ${options.agent}`);
  const beat = async () => {
    try {
      if (options.ready()) await workload.pass("dietmesh ready");
      else await workload.fail("dietmesh not ready");
    } catch (error) {
      options.log(`consul check update failed: ${(error as Error).message}`, "warn");
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), PASS_EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      try {
        await workload.deregister();
        options.log(`deregistered ${workload.id} from Consul`);
      } catch (error) {
        options.log(`consul deregister failed: ${(error as Error).message}`, "warn");
      }
    },
  };
}
