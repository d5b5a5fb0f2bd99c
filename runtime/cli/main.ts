// The dietmesh command line: `dietmesh <command> [flags]`.
import { platform } from "../platform/index.ts";
import { helpText, UsageError, type CommandSpec } from "./args.ts";

interface Command {
  spec: CommandSpec;
  run: (argv: string[]) => Promise<number | void>;
}

// Each command's module is imported only when that command runs: the sidecar's start time is part
// of its budget, and it need not load the CA's X.509 code, the demo launcher or inject.
const commands: Record<string, () => Promise<Command>> = {
  sidecar: async () => {
    const m = await import("./sidecar.ts");
    return { spec: m.sidecarSpec, run: m.runSidecar };
  },
  gateway: async () => {
    const m = await import("./gateway.ts");
    return { spec: m.gatewaySpec, run: m.runGateway };
  },
  check: async () => {
    const m = await import("./check.ts");
    return { spec: m.checkSpec, run: m.runCheckCommand };
  },
  demo: async () => {
    const m = await import("./demo.ts");
    return { spec: m.demoSpec, run: m.runDemo };
  },
  ca: async () => {
    const m = await import("./ca.ts");
    return { spec: m.caSpec, run: (argv) => m.runCa(argv) };
  },
  wait: async () => {
    const m = await import("./wait.ts");
    return { spec: m.waitSpec, run: m.runWait };
  },
  inject: async () => {
    const m = await import("./inject.ts");
    return { spec: m.injectSpec, run: m.runInject };
  },
  "demo-app": async () => ({
    spec: {
      name: "demo-app",
      summary: "Run one of the demos' apps (hello-istio, alphabet, spelling) — how the Kubernetes demo runs them from the image.",
      usage: "dietmesh demo-app hello-istio|alphabet|spelling [the app's flags, e.g. --port 8080 --version 1.0.1]",
      flags: [],
    },
    // literal imports, so the single executable carries the three apps
    async run(argv) {
      const app = argv[0];
      if (app === "hello-istio") await import("../../demo/hello-istio/app.ts");
      else if (app === "alphabet") await import("../../demo/alphabet/alphabet.ts");
      else if (app === "spelling") await import("../../demo/alphabet/spelling.ts");
      else throw new UsageError(`expected hello-istio, alphabet or spelling, got "${app ?? ""}"`);
    },
  }),
  "proxy-config": async () => {
    const m = await import("./proxy-config.ts");
    return { spec: m.proxyConfigSpec, run: m.runProxyConfig };
  },
  "proxy-status": async () => {
    const m = await import("./proxy-config.ts");
    return { spec: m.proxyStatusSpec, run: m.runProxyStatus };
  },
};

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  const rows = all.map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return `dietmesh — a small service-mesh data plane that reads Istio YAML\n\nUsage: dietmesh <command> [flags]\n\nCommands:\n${rows.join("\n")}\n\nRun dietmesh <command> --help for its flags, dietmesh --version for the version.\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await usage());
    return;
  }
  // before any command loads: `dietmesh --version` and `dietmesh <command> --version` alike
  // (demo-app passes its flags to the app: hello-istio's own --version is the version it reports)
  if (name === "--version" || name === "version" || (rest.includes("--version") && name !== "demo-app")) {
    console.log((await import("./version.ts")).versionLine());
    return;
  }
  const load = commands[name];
  if (!load) {
    console.error(`dietmesh: unknown command "${name}" (try dietmesh --help)`);
    platform.exit(2);
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(helpText(command.spec));
    return;
  }
  try {
    const code = await command.run(rest);
    if (typeof code === "number") platform.exit(code);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`dietmesh ${name}: ${error.message}`);
      platform.exit(2);
    }
    console.error(`dietmesh ${name}: ${(error as Error).message}`);
    platform.exit(1);
  }
}

await main(platform.args());
