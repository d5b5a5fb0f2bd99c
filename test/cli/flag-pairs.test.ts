// Flags that only mean something with another are refused without it (a one-line usage error,
// exit 2), never silently ignored: --kubeconfig without --registry kubernetes, --ca-root or
// --token beside --ca-dir (whose directory has its own root), --trace-sampling without a span
// exporter.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, stopAll, tempConfig } from "../support/mesh.ts";

test.after(() => stopAll());

async function refused(args: string[]): Promise<string[]> {
  const config = await tempConfig({ "empty.yaml": "" });
  const child = runScript(cli, ["sidecar", "--config", config, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", ...args]);
  assert.is(await child.exited, 2, child.lines.join("\n"));
  return child.lines.filter((l) => l.trim());
}

test("--kubeconfig without --registry kubernetes", async () => {
  assert.equal(await refused(["--kubeconfig", "/nonexistent/kubeconfig"]), ["dietmesh sidecar: --kubeconfig goes with --registry kubernetes (nothing else reads a cluster)"]);
});

test("--token or --ca-root beside --ca-dir", async () => {
  assert.equal(await refused(["--ca-dir", "/nonexistent/ca", "--token", "/nonexistent/token"]), ["dietmesh sidecar: --token goes with --ca, not --ca-dir (a local CA directory has its own root)"]);
  assert.equal(await refused(["--ca-dir", "/nonexistent/ca", "--ca-root", "/nonexistent/root.pem"]), ["dietmesh sidecar: --ca-root goes with --ca, not --ca-dir (a local CA directory has its own root)"]);
});

test("--trace-sampling without a span exporter", async () => {
  assert.equal(await refused(["--trace-sampling", "50"]), ["dietmesh sidecar: --trace-sampling goes with --otlp-endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT): without a span exporter no traces are started, as Envoy with no tracer"]);
});

test.run();
