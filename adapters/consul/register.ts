// Registration of a VM workload (and its sidecar) in the local Consul agent, so that Consul-aware
// clients and other dietmesh sidecars find it: PUT /v1/agent/service/register with one health
// check, a TTL the sidecar keeps passing or an HTTP check on the sidecar's readiness endpoint.
import { consulClient } from "./client.ts";

export interface WorkloadRegistration {
  /** the agent's HTTP API, "http://127.0.0.1:8500" */
  agent: string;
  /** the Consul service name (what other workloads resolve as <name>.service.consul) */
  name: string;
  /** unique on the agent; defaults to the name */
  id?: string;
  /** the address others connect to; empty means the agent's node address (Consul's default) */
  address?: string;
  port: number;
  /** Service.Meta: becomes endpoint labels (version=v1 selects subsets); protocol=http2|grpc|… */
  meta?: Record<string, string>;
  tags?: string[];
  /** a TTL check ("10s"): call pass() more often than that, or the instance turns critical */
  checkTtl?: string;
  /** an HTTP check the agent runs, e.g. the sidecar's "http://10.0.0.5:15021/healthz/ready" */
  checkHttp?: string;
  /** how often the agent runs checkHttp (default "10s") */
  checkInterval?: string;
  /** Consul removes the instance after being critical this long ("1m"); off by default */
  deregisterCriticalAfter?: string;
  /** ACL token with service:write on the name (agent:write is not needed for this call) */
  token?: string;
  namespace?: string;
}

export interface RegisteredWorkload {
  id: string;
  /** "service:<id>" when a check was registered */
  checkId?: string;
  /** marks the TTL check passing (PUT /v1/agent/check/pass) */
  pass(note?: string): Promise<void>;
  /** marks the TTL check critical at once, e.g. while draining */
  fail(note?: string): Promise<void>;
  deregister(): Promise<void>;
}

export async function registerWorkload(r: WorkloadRegistration): Promise<RegisteredWorkload> {
  if (r.checkTtl && r.checkHttp) throw new Error("registerWorkload: give checkTtl or checkHttp, not both");
  const id = r.id ?? r.name;
  const client = consulClient({ address: r.agent, token: r.token, namespace: r.namespace });
  const body: Record<string, unknown> = { ID: id, Name: r.name, Port: r.port, Tags: r.tags ?? [], Meta: r.meta ?? {} };
  if (r.address) body.Address = r.address;
  let checkId: string | undefined;
  if (r.checkTtl || r.checkHttp) {
    checkId = `service:${id}`;
    const check: Record<string, string> = { CheckID: checkId, Name: `dietmesh ${r.checkTtl ? "TTL" : "readiness"} check` };
    if (r.checkTtl) check.TTL = r.checkTtl;
    else Object.assign(check, { HTTP: r.checkHttp!, Interval: r.checkInterval ?? "10s" });
    if (r.deregisterCriticalAfter) check.DeregisterCriticalServiceAfter = r.deregisterCriticalAfter;
    body.Check = check;
  }
  await client.put("/v1/agent/service/register", body);
  const update = (verb: "pass" | "fail", note?: string) => {
    if (!checkId) return Promise.reject(new Error(`${id} was registered without a check`));
    return client.put(`/v1/agent/check/${verb}/${encodeURIComponent(checkId)}`, undefined, note ? { note } : {});
  };
  return {
    id,
    checkId,
    pass: (note) => update("pass", note),
    fail: (note) => update("fail", note),
    deregister: () => deregisterWorkload({ agent: r.agent, id, token: r.token, namespace: r.namespace }),
  };
}

export async function deregisterWorkload(r: { agent: string; id: string; token?: string; namespace?: string }): Promise<void> {
  const client = consulClient({ address: r.agent, token: r.token, namespace: r.namespace });
  await client.put(`/v1/agent/service/deregister/${encodeURIComponent(r.id)}`, undefined);
}
