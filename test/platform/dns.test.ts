// platform/dns: the --dns-server resolver against the test DNS server on loopback (a port other
// than 53, which node:dns Resolver#setServers takes on Bun and on Deno): A then AAAA with the
// smallest TTL, a changed answer seen at once (no cache of the runtime's in between), failures and
// unknown names rejected; and the system resolver (getaddrinfo) for a name in /etc/hosts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createDnsResolver } from "../../runtime/platform/dns.ts";
import { startDnsServer, type DnsServer } from "../support/dns-server.ts";

let server: DnsServer;

test.before(async () => {
  server = await startDnsServer();
});

test.after(() => server.close());

test("A and AAAA records, IPv4 first, with the smallest TTL", async () => {
  server.set("api.test", { a: [{ address: "10.0.0.1", ttl: 30 }, { address: "10.0.0.2", ttl: 20 }], aaaa: [{ address: "fd00::5", ttl: 40 }] });
  const answer = await createDnsResolver([server.address])("api.test");
  assert.equal(answer, { addresses: ["10.0.0.1", "10.0.0.2", "fd00::5"], ttl: 20 });
});

test("IPv4 only is an answer; a changed record is seen on the next question", async () => {
  const resolve = createDnsResolver([server.address]);
  server.set("v4.test", { a: [{ address: "10.0.1.1", ttl: 60 }] });
  assert.equal(await resolve("v4.test"), { addresses: ["10.0.1.1"], ttl: 60 });
  server.set("v4.test", { a: [{ address: "10.0.1.2", ttl: 60 }] });
  assert.equal((await resolve("v4.test")).addresses, ["10.0.1.2"], "the runtime's resolver cache must not answer");
});

test("an unknown name and a failing server reject", async () => {
  const resolve = createDnsResolver([server.address]);
  let failed = false;
  await resolve("nowhere.test").catch(() => (failed = true));
  assert.ok(failed, "NXDOMAIN rejects");
  server.set("down.test", { a: [{ address: "10.0.2.1", ttl: 5 }] });
  server.failing = true;
  failed = false;
  await resolve("down.test").catch(() => (failed = true));
  server.failing = false;
  assert.ok(failed, "SERVFAIL rejects");
});

test("no server given: the system resolver, which reads /etc/hosts (localhost), with no TTL", async () => {
  const answer = await createDnsResolver()("localhost");
  assert.ok(answer.addresses.some((a) => a === "127.0.0.1" || a === "::1"), answer.addresses.join(","));
  assert.is(answer.ttl, undefined);
});

test.run();
