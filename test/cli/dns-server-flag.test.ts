// --dns-server takes what the resolver takes (IP, IP:PORT, IPv6 bare or [IPv6]:PORT): anything else
// is refused at start — the sidecar's a usage error (one line, exit 2), never a proxy that turns
// ready and fails at its first resolution.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dnsServerProblem, createDnsResolver } from "../../runtime/platform/dns.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { cli, stopAll, tempConfig } from "../support/mesh.ts";

test.after(() => stopAll());

test("the forms Resolver#setServers takes are accepted; names, bad ports and stray text are not", () => {
  for (const ok of ["10.0.0.1", "10.0.0.1:5353", "::1", "[::1]", "[fd00::53]:5353", "::ffff:10.0.0.1", "127.0.0.1:65535"]) {
    assert.is(dnsServerProblem(ok), undefined, ok);
  }
  for (const bad of ["not-an-ip", "localhost:53", "10.0.0", "256.0.0.1", "010.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:70000", "[::1]:", "[::1]x", "[10.0.0.1]", "1:2", ""]) {
    assert.is(dnsServerProblem(bad), `expected IP, IP:PORT or [IPv6]:PORT, got ${JSON.stringify(bad)}`, bad);
  }
  assert.throws(() => createDnsResolver(["10.0.0.1", "dns.example"]), /DNS server: expected IP, IP:PORT or \[IPv6\]:PORT, got "dns.example"/);
});

test("sidecar --dns-server not-an-ip: one line, exit 2", async () => {
  const config = await tempConfig({ "empty.yaml": "" });
  const child = runScript(cli, ["sidecar", "--config", config, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dns-server", "not-an-ip"]);
  assert.is(await child.exited, 2);
  const lines = child.lines.filter((l) => l.trim());
  assert.equal(lines, ['dietmesh sidecar: --dns-server: expected IP, IP:PORT or [IPv6]:PORT, got "not-an-ip"']);
});

test("sidecar with well-formed --dns-server values starts", async () => {
  const config = await tempConfig({ "empty.yaml": "" });
  const child = runScript(cli, ["sidecar", "--config", config, "--outbound", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--dns-server", "127.0.0.1:5353", "--dns-server", "[::1]:5353"]);
  try {
    await child.waitFor(/ready on /);
  } finally {
    child.kill("SIGKILL");
    await child.exited;
  }
});

test("gateway --dns-server not-an-ip: the same usage error, exit 2 (before any port opens)", async () => {
  const config = await tempConfig({ "empty.yaml": "" });
  const child = runScript(cli, ["gateway", "--config", config, "--bind", "80=127.0.0.1:0", "--admin", "127.0.0.1:0", "--dns-server", "not-an-ip"]);
  assert.is(await child.exited, 2);
  const lines = child.lines.filter((l) => l.trim());
  assert.equal(lines, ['dietmesh gateway: --dns-server: expected IP, IP:PORT or [IPv6]:PORT, got "not-an-ip"']);
});

test.run();
