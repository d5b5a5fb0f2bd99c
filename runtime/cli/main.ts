// The dietmesh command line: `dietmesh <command> [flags]`.
import { platform } from "../platform/index.ts";
import { helpText, UsageError, type CommandSpec } from "./args.ts";
import { runSidecar, sidecarSpec } from "./sidecar.ts";
import { runGateway, gatewaySpec } from "./gateway.ts";
import { runCheckCommand, checkSpec } from "./check.ts";
import { runDemo, demoSpec } from "./demo.ts";
import { runCa, caSpec } from "./ca.ts";
import { runWait, waitSpec } from "./wait.ts";
import { injectSpec, runInject } from "./inject.ts";

const commands: Record<string, { spec: CommandSpec; run: (argv: string[]) => Promise<number | void> }> = {
  sidecar: { spec: sidecarSpec, run: runSidecar },
  gateway: { spec: gatewaySpec, run: runGateway },
  check: { spec: checkSpec, run: runCheckCommand },
  demo: { spec: demoSpec, run: runDemo },
  ca: { spec: caSpec, run: (argv) => runCa(argv) },
  wait: { spec: waitSpec, run: runWait },
  inject: { spec: injectSpec, run: runInject },
};

function usage(): string {
  const rows = Object.values(commands).map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return `dietmesh — a small service-mesh data plane that reads Istio YAML\n\nUsage: dietmesh <command> [flags]\n\nCommands:\n${rows.join("\n")}\n\nRun dietmesh <command> --help for its flags.\n`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`dietmesh: unknown command "${name}" (try dietmesh --help)`);
    platform.exit(2);
  }
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
