// `dietmesh inject -f deployment.yaml`: prints the manifest with the sidecar added to every workload,
// as `istioctl kube-inject` does — for `kubectl apply -f -`. What it adds: runtime/inject/.
import { platform } from "../platform/index.ts";
import { DEFAULT_CA_ADDRESS, DEFAULT_IMAGE, PORTS } from "../inject/defaults.ts";
import { injectManifest } from "../inject/inject.ts";
import { parseFlags, UsageError, type CommandSpec } from "./args.ts";

export const injectSpec: CommandSpec = {
  name: "inject",
  summary: "Print Kubernetes manifests with the dietmesh sidecar added (like istioctl kube-inject).",
  usage: "dietmesh inject -f FILE|- [--image IMAGE] [--ca-address URL] [--app-port PORT]",
  flags: [
    { name: "filename", kind: "string", value: "FILE", help: "the manifest (multi-document YAML or JSON); - reads stdin; -f for short" },
    { name: "image", kind: "string", value: "IMAGE", default: DEFAULT_IMAGE, help: "the sidecar's image" },
    { name: "ca-address", kind: "string", value: "URL", default: DEFAULT_CA_ADDRESS, help: "where the sidecars reach dietmesh ca serve" },
    { name: "app-port", kind: "string", value: "PORT", help: "the port inbound calls go to, for every workload (default: the pod annotation dietmesh.io/app-port, else the first container's first port)" },
  ],
};

function appPortFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--app-port: expected a port number (1-65535), got "${value}"`);
  if ((Object.values(PORTS) as number[]).includes(port)) throw new UsageError(`--app-port: ${port} is one of the sidecar's ports (${Object.values(PORTS).join(", ")})`);
  return port;
}

/** exit 0 with the manifest on stdout; 1 with one line per problem on stderr */
export async function runInject(argv: string[]): Promise<number | void> {
  const flags = parseFlags(injectSpec, argv.map((a) => (a === "-f" ? "--filename" : a.startsWith("-f=") ? `--filename=${a.slice(3)}` : a)));
  const file = flags.strings.filename;
  if (!file) throw new UsageError("-f FILE is required (- for stdin)");
  if (flags.positionals.length) throw new UsageError(`unexpected argument "${flags.positionals[0]}" (the manifest goes after -f)`);
  const caAddress = flags.strings["ca-address"]!;
  if (!/^https:\/\/[^/\s]+/.test(caAddress)) throw new UsageError(`--ca-address: expected https://HOST:PORT, got "${caAddress}"`);
  const appPort = appPortFlag(flags.strings["app-port"]);
  const text = await platform.readTextFile(file === "-" ? "/dev/stdin" : file).catch((error: Error) => {
    throw new Error(`cannot read ${file === "-" ? "stdin" : file}: ${error.message}`);
  });
  const report = injectManifest(text, file === "-" ? "stdin" : file, { image: flags.strings.image!, caAddress, appPort });
  for (const note of report.notes) console.error(`dietmesh inject: ${note}`);
  if (report.errors.length) {
    for (const line of report.errors) console.error(line);
    return 1;
  }
  // no explicit exit on success: the runtime flushes stdout before it ends by itself
  if (report.output) console.log(report.output.replace(/\n$/, ""));
}
