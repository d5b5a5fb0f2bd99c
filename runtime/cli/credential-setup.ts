// Where a proxy's credentialName material comes from (security/credential-source.ts): the folder of
// --credentials-dir, else, with --registry kubernetes, the Secrets of the proxy's namespace (the
// cluster of --kubeconfig or the pod's own), else none — and then every DestinationRule or Gateway
// server of this proxy that names a credential is refused, at start and on reload, with its file,
// resource and field: never served or sent without the TLS it asks for.
import { platform } from "../platform/index.ts";
import type { FlagSpec, ParsedFlags } from "./args.ts";
import type { MeshConfig, Resource } from "../config/types.ts";
import type { ConfigError } from "../config/errors.ts";
import { folderCredentials } from "../security/credential-files.ts";
import type { CredentialSource } from "../security/credential-source.ts";
import { gatewaysFor, type ProxyIdentity } from "../model/compile.ts";
import { ruleApplies } from "../model/destination-rules.ts";

export const credentialsDirFlag: FlagSpec = {
  name: "credentials-dir",
  kind: "string",
  value: "DIR",
  help: "where credentialName is read (Gateway HTTPS servers, DestinationRule SIMPLE/MUTUAL origination): DIR/<name>/tls.crt, tls.key, ca.crt (or DIR/<name>-cacert/ca.crt); read per connection, watched for servers. Without it, --registry kubernetes reads the Secrets of --namespace",
};

export async function setupCredentials(flags: ParsedFlags, namespace: string, log: (message: string) => void): Promise<CredentialSource | undefined> {
  const dir = flags.strings["credentials-dir"];
  if (dir) return folderCredentials(dir);
  const kube = flags.lists.registry.find((r) => r === "kubernetes" || r.startsWith("kubernetes="));
  if (!kube) return undefined;
  // loaded only when asked for: a proxy without credentials starts without the adapter
  const [{ kubeOptionsFrom }, { secretCredentialsFrom }, { createTlsFetch }] = await Promise.all([
    import("../../adapters/kubernetes/index.ts"),
    import("../../adapters/kubernetes/secrets.ts"),
    import("../platform/tls-fetch.ts"),
  ]);
  const spec = flags.strings.kubeconfig ? { kubeconfig: flags.strings.kubeconfig } : {};
  const options = { ...(await kubeOptionsFrom(spec, platform.env, platform.readTextFile)), tls: createTlsFetch, log };
  return secretCredentialsFrom(options, namespace);
}

const NO_SOURCE = "credentialName needs a credential source: --credentials-dir DIR (DIR/<name>/tls.crt, tls.key, ca.crt) or --registry kubernetes (the Secret in the proxy's namespace); refused rather than sent without TLS";

/**
 * every credentialName this proxy would use, as load errors (for a proxy with no credential
 * source): DestinationRule TLS blocks, and the HTTPS servers of the Gateways that select it. The
 * config watch rejects a config with any, at start and on reload, so the last good one stays.
 */
export function credentialNameErrors(config: MeshConfig, proxy?: ProxyIdentity): ConfigError[] {
  const out: ConfigError[] = [];
  const refuse = (resource: Resource<string, unknown>, path: string) =>
    out.push({
      code: "schema", severity: "error", file: resource.origin.file, document: resource.origin.document, kind: resource.kind, name: resource.metadata.name, namespace: resource.metadata.namespace,
      path: `${path}.tls.credentialName`,
      message: NO_SOURCE,
    });
  for (const dr of config.destinationRules) {
    if (!ruleApplies(dr, proxy)) continue; // a workloadSelector that picks other proxies
    const policies: [string, { tls?: { credentialName?: string } } | undefined][] = [["spec.trafficPolicy", dr.spec.trafficPolicy]];
    dr.spec.trafficPolicy?.portLevelSettings?.forEach((p, i) => policies.push([`spec.trafficPolicy.portLevelSettings[${i}]`, p]));
    dr.spec.subsets?.forEach((s, i) => {
      policies.push([`spec.subsets[${i}].trafficPolicy`, s.trafficPolicy]);
      s.trafficPolicy?.portLevelSettings?.forEach((p, j) => policies.push([`spec.subsets[${i}].trafficPolicy.portLevelSettings[${j}]`, p]));
    });
    for (const [path, policy] of policies) if (policy?.tls?.credentialName !== undefined) refuse(dr, path);
  }
  for (const gateway of proxy ? gatewaysFor(config, proxy) : []) {
    gateway.spec.servers.forEach((server, i) => {
      if ((server.tls as { credentialName?: string } | undefined)?.credentialName !== undefined) refuse(gateway, `spec.servers[${i}]`);
    });
  }
  return out;
}

