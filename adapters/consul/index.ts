// The Consul registry: the watch in source.ts behind the shared recover wrapper. Entry point of
// adapters/consul/ (registration for VMs is in register.ts).
import type { Registry } from "../../runtime/model/registry.ts";
import { recoverRegistry } from "../../runtime/model/registry-recover.ts";
import { consulSource } from "./source.ts";
import type { ConsulOptions } from "./options.ts";

export function consulRegistry(options: ConsulOptions): Registry {
  return recoverRegistry("consul", consulSource(options), {
    ...options.backoff,
    clock: options.clock,
    random: options.random,
    log: options.log,
    onSync: options.onSync,
  });
}

export { consulOptionsFrom, ConsulConfigError, DEFAULT_CONSUL_ADDRESS, type ConsulOptions } from "./options.ts";
export { registerWorkload, deregisterWorkload, type WorkloadRegistration, type RegisteredWorkload } from "./register.ts";
export { consulHosts, consulLabels } from "./convert.ts";
