// The real kubectl against a test API server, for tests: a kubeconfig and a discovery cache of its
// own in a temp folder, output (stdout and stderr together) and exit code back. kubectl comes from
// the machine, or from Debian's kubernetes-client package through scripts/ensure-tools.sh.
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, type Child } from "../../runtime/platform/process.ts";
import type { KubeApi } from "./kube-api.ts";

const root = new URL("../../", import.meta.url).pathname;

export async function ensureKubectl(): Promise<void> {
  const child = runCommand("bash", [`${root}scripts/ensure-tools.sh`, "kubectl"]);
  const code = await child.exited;
  if (code !== 0) throw new Error(`scripts/ensure-tools.sh kubectl failed (exit ${code}):\n${child.lines.join("\n")}`);
}

export interface KubectlResult {
  code: number | null;
  out: string;
}

export interface Kubectl {
  (...args: string[]): Promise<KubectlResult>;
  /** runs kubectl and fails unless it exits 0; returns its output */
  ok(...args: string[]): Promise<string>;
  /** starts kubectl without waiting for it (kubectl get -w); kill it when done */
  spawn(...args: string[]): Child;
  kubeconfig: string;
  dir: string;
  /** writes a file into the temp folder and returns its path (for kubectl -f) */
  file(name: string, text: string): Promise<string>;
}

export async function kubectlFor(api: KubeApi, options: { token?: string } = {}): Promise<Kubectl> {
  const dir = await platform.makeTempDir("dietmesh-kubectl-");
  const kubeconfig = await api.kubeconfig(`${dir}/kubeconfig`, options);
  const spawn = (...args: string[]) => runCommand("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", `${dir}/cache`, ...args], { env: { HOME: dir } });
  const run = async (...args: string[]): Promise<KubectlResult> => {
    const child = spawn(...args);
    const code = await child.exited;
    return { code, out: child.lines.join("\n") };
  };
  const kubectl = run as Kubectl;
  kubectl.ok = async (...args) => {
    const r = await run(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}:\n${r.out}`);
    return r.out;
  };
  kubectl.spawn = spawn;
  kubectl.kubeconfig = kubeconfig;
  kubectl.dir = dir;
  kubectl.file = async (name, text) => {
    await platform.writeTextFile(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };
  return kubectl;
}
