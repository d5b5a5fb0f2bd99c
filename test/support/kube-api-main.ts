// `npm run kube-api -- --port N [--token T]`: the test Kubernetes API server as a process, for
// trying kubectl and dietmesh's Kubernetes registry by hand. Prints a kubeconfig path to use.
import { platform } from "../../runtime/platform/index.ts";
import { startKubeApi } from "./kube-api.ts";

const args = platform.args();
function flag(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? undefined : args[i + 1];
}

const port = Number(flag("port") ?? 6443);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`kube-api: --port must be a port number, got "${flag("port")}"`);
  platform.exit(2);
}
const token = flag("token");
const api = startKubeApi({ port, token });
const kubeconfig = await api.kubeconfig(`${await platform.makeTempDir("dietmesh-kube-api-")}/kubeconfig`, { token });
console.log(`kube-api listening on 127.0.0.1:${api.port}`);
console.log(`kubeconfig ${kubeconfig} (export KUBECONFIG=${kubeconfig})`);
const stop = () => void api.stop().then(() => platform.exit(0));
platform.onSignal("SIGINT", stop);
platform.onSignal("SIGTERM", stop);
