// Where a proxy's credentialName material comes from (security/credential-source.ts): the folder of
// --credentials-dir, else, with --registry kubernetes, the Secrets of the proxy's namespace (the
// cluster of --kubeconfig or the pod's own), else none — and then every DestinationRule that names
// a credential is refused at start with its file, resource and field, never sent in plaintext.
import { platform } from "../platform/index.ts";
import type { FlagSpec, ParsedFlags } from "./args.ts";
import type { MeshConfig } from "../config/types.ts";
import { formatConfigError, type ConfigError } from "../config/errors.ts";
import { folderCredentials } from "../security/credential-files.ts";
import type { CredentialSource } from "../security/credential-source.ts";

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

/** every DestinationRule TLS block naming a credentialName, as load errors (for a proxy with no source) */
export function credentialNameErrors(config: MeshConfig): ConfigError[] {
  const out: ConfigError[] = [];
  for (const dr of config.destinationRules) {
    const policies: [string, { tls?: { credentialName?: string } } | undefined][] = [["spec.trafficPolicy", dr.spec.trafficPolicy]];
    dr.spec.trafficPolicy?.portLevelSettings?.forEach((p, i) => policies.push([`spec.trafficPolicy.portLevelSettings[${i}]`, p]));
    dr.spec.subsets?.forEach((s, i) => {
      policies.push([`spec.subsets[${i}].trafficPolicy`, s.trafficPolicy]);
      s.trafficPolicy?.portLevelSettings?.forEach((p, j) => policies.push([`spec.subsets[${i}].trafficPolicy.portLevelSettings[${j}]`, p]));
    });
    for (const [path, policy] of policies) {
      if (policy?.tls?.credentialName === undefined) continue;
      out.push({
        code: "schema", severity: "error", file: dr.origin.file, document: dr.origin.document, kind: "DestinationRule", name: dr.metadata.name, namespace: dr.metadata.namespace,
        path: `${path}.tls.credentialName`,
        message: "credentialName needs a credential source: --credentials-dir DIR (DIR/<name>/tls.crt, tls.key, ca.crt) or --registry kubernetes (the Secret in the proxy's namespace); refused rather than sent without TLS",
      });
    }
  }
  return out;
}

export const formatCredentialErrors = (errors: ConfigError[]) => errors.map(formatConfigError).join("\n");
