// `dietmesh proxy-config` and `dietmesh proxy-status`, istioctl's habits over a proxy's admin API:
// routes, clusters, endpoints, listeners and the workload certificate as tables (or the admin's
// JSON with -o json), and for several proxies one line each — config version, when it was built,
// readiness, certificate expiry. Read-only: GET /config_dump and /ready.
import { upstreamClient } from "../upstream/default-client.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";

export const proxyConfigSpec: CommandSpec = {
  name: "proxy-config",
  summary: "Show a proxy's routes, clusters, endpoints, listeners or certificate (as istioctl proxy-config).",
  usage: "dietmesh proxy-config routes|clusters|endpoints|listeners|secret --admin HOST:PORT [-o table|json]",
  flags: [
    { name: "admin", kind: "string", value: "HOST:PORT", default: "127.0.0.1:15000", help: "the proxy's admin listener" },
    { name: "output", short: "o", kind: "string", value: "FORMAT", default: "table", help: "table or json" },
  ],
};

export const proxyStatusSpec: CommandSpec = {
  name: "proxy-status",
  summary: "One line per proxy: kind, identity, config version and age, readiness, certificate expiry.",
  usage: "dietmesh proxy-status --admin HOST:PORT [--admin HOST:PORT ...]",
  flags: [{ name: "admin", kind: "list", value: "HOST:PORT", help: "a proxy's admin listener" }],
};

type Dump = {
  proxy: { kind?: string; namespace?: string; serviceAccount?: string; labels?: Record<string, string>; listeners?: string[] | Record<string, string>; identity?: { spiffeId: string; serial: string; notBefore: number; notAfter: number; renewals: number } };
  version: number;
  builtAt: string;
  routes: { outbound: VHost[]; gateway: Record<string, VHost[]> };
  /** a large mesh's sidecar: hosts compiled on first use (routes and clusters list only those) */
  onDemand?: { hosts: number; compiled: { host: string; why: string }[] };
  clusters: {
    name: string;
    service: string;
    port: number;
    subset: string | null;
    loadBalancer: { simple?: string; consistentHash?: unknown };
    endpoints: { address: string; healthy: boolean; weight: number; outlier: { ejected: boolean } | null }[];
  }[];
};
type VHost = { name: string; domains: string[]; routes: string[] };

async function get(admin: string, path: string): Promise<{ status: number; text: string }> {
  const response = await upstreamClient.send({ url: `http://${admin}${path}`, method: "GET", headers: new Headers({ host: admin }), body: null });
  return { status: response.status, text: await response.text() };
}

async function dump(admin: string): Promise<Dump> {
  const { status, text } = await get(admin, "/config_dump");
  if (status !== 200) throw new Error(`${admin}/config_dump answered ${status}`);
  return JSON.parse(text) as Dump;
}

/** columns padded to their widest cell, two spaces apart, as istioctl prints them */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** says that the lists are partial, when they are: hosts compile on first use in a large mesh */
function onDemandNote(d: Dump, end = ""): string {
  if (!d.onDemand) return "";
  const note = `${d.onDemand.compiled.length} of ${d.onDemand.hosts} outbound hosts compiled (on first use; the others compile when first called)`;
  return end ? `# ${note}${end}` : `\n# ${note}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function render(what: string, d: Dump): string {
  switch (what) {
    case "routes": {
      const rows: string[][] = [];
      for (const vh of d.routes.outbound) rows.push(["outbound", vh.name, vh.domains.join(","), vh.routes.join(",")]);
      for (const [port, vhs] of Object.entries(d.routes.gateway)) for (const vh of vhs) rows.push([`gateway:${port}`, vh.name, vh.domains.join(","), vh.routes.join(",")]);
      return table(["LISTENER", "VIRTUAL HOST", "DOMAINS", "ROUTES"], rows) + onDemandNote(d);
    }
    case "clusters":
      return onDemandNote(d, "\n") + table(
        ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "ENDPOINTS", "LOAD BALANCER"],
        d.clusters.map((c) => [c.service, String(c.port), c.subset ?? "-", "outbound", String(c.endpoints.length), c.loadBalancer.consistentHash ? "CONSISTENT_HASH" : (c.loadBalancer.simple ?? "LEAST_REQUEST")]),
      );
    case "endpoints":
      return table(
        ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"],
        d.clusters.flatMap((c) => c.endpoints.map((e) => [e.address, e.healthy ? "HEALTHY" : "UNHEALTHY", e.outlier?.ejected ? "EJECTED" : "OK", c.name])),
      );
    case "listeners": {
      const listeners = d.proxy.listeners ?? [];
      const entries = Array.isArray(listeners) ? listeners.map((address) => ["-", address]) : Object.entries(listeners).map(([port, address]) => [port, address]);
      return table(["PORT", "ADDRESS", "KIND"], entries.map(([port, address]) => [port, address, d.proxy.kind ?? "-"]));
    }
    case "secret": {
      const id = d.proxy.identity;
      if (!id) return table(["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"], []);
      const valid = Date.now() < id.notAfter && Date.now() >= id.notBefore;
      return table(["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"], [["default", "Cert Chain", "ACTIVE", String(valid), id.serial, iso(id.notAfter), iso(id.notBefore)]]);
    }
  }
  throw new UsageError(`expected routes, clusters, endpoints, listeners or secret, got "${what}"`);
}

export async function runProxyConfig(argv: string[]): Promise<void> {
  const flags = parseFlags(proxyConfigSpec, argv);
  const [what] = flags.positionals;
  if (!what || !["routes", "clusters", "endpoints", "listeners", "secret"].includes(what)) throw new UsageError("name what to show: routes, clusters, endpoints, listeners or secret");
  const output = flags.strings.output ?? "table";
  if (output !== "table" && output !== "json") throw new UsageError(`--output: expected table or json, got "${output}"`);
  const d = await dump(flags.strings.admin!);
  if (output === "table") return void console.log(render(what, d));
  const json = { routes: d.routes, clusters: d.clusters, endpoints: d.clusters.map((c) => ({ cluster: c.name, endpoints: c.endpoints })), listeners: d.proxy.listeners ?? [], secret: d.proxy.identity ?? null }[what as "routes"];
  console.log(JSON.stringify(json, null, 2));
}

export async function runProxyStatus(argv: string[]): Promise<number> {
  const flags = parseFlags(proxyStatusSpec, argv);
  const admins = flags.lists.admin;
  if (!admins.length) throw new UsageError("--admin HOST:PORT is required (repeatable)");
  let failed = 0;
  const rows = await Promise.all(
    admins.map(async (admin) => {
      try {
        const [d, ready] = await Promise.all([dump(admin), get(admin, "/ready")]);
        const p = d.proxy;
        const name = `${p.kind ?? "proxy"} ${p.namespace ?? "-"}/${p.serviceAccount ?? "-"}`;
        return [admin, name, String(d.version), d.builtAt.replace(/\.\d{3}Z$/, "Z"), ready.status === 200 ? "SYNCED" : "NOT READY", p.identity ? iso(p.identity.notAfter) : "-"];
      } catch (error) {
        failed++;
        return [admin, "-", "-", "-", `UNREACHABLE (${(error as Error).message})`, "-"];
      }
    }),
  );
  console.log(table(["ADMIN", "PROXY", "CONFIG VERSION", "CONFIG BUILT", "STATUS", "CERT NOT AFTER"], rows));
  return failed ? 1 : 0;
}
