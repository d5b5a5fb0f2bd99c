// The origination suites' TLS backends: `openssl s_server -www` (it answers HTTP over TLS with a
// status page) on a free loopback port, and the DestinationRule that asks for TLS to a host.
import { closedPort } from "../../runtime/platform/http1/test-server.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";

/** starts s_server with dir/server.crt and dir/server.key; extra: e.g. ["-Verify", "1", "-CAfile", ca] to require a client certificate. Push the child to kill it after the suite. */
export async function opensslWww(dir: string, extra: string[], started: Child[]): Promise<number> {
  const port = await closedPort();
  const child = runCommand("openssl", ["s_server", "-accept", `127.0.0.1:${port}`, "-cert", `${dir}/server.crt`, "-key", `${dir}/server.key`, "-www", ...extra]);
  started.push(child);
  await child.waitFor(/^ACCEPT/);
  return port;
}

/** a DestinationRule for host whose trafficPolicy.tls is the given YAML flow mapping */
export const tlsRule = (name: string, host: string, tls: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${host}
  trafficPolicy:
    tls: ${tls}
`;
