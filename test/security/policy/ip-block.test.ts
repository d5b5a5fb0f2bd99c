// IP and CIDR parsing and matching for ipBlocks and the *.ip conditions, IPv4 and IPv6.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ipBlockProblem, ipInBlock, parseIp, parseIpBlock } from "../../../runtime/security/policy/ip-block.ts";

const inBlock = (ip: string, block: string) => ipInBlock(parseIp(ip)!, parseIpBlock(block)!);

test("IPv4 blocks: a single address is a /32, host bits are masked, /0 matches every IPv4 address", () => {
  assert.ok(inBlock("10.1.2.3", "10.0.0.0/8"));
  assert.not.ok(inBlock("11.0.0.1", "10.0.0.0/8"));
  assert.ok(inBlock("10.1.2.3", "10.1.2.3"));
  assert.not.ok(inBlock("10.1.2.4", "10.1.2.3"));
  assert.ok(inBlock("192.168.1.77", "192.168.1.5/24"), "host bits of the block are ignored");
  assert.ok(inBlock("172.16.31.255", "172.16.16.0/20"));
  assert.not.ok(inBlock("172.16.32.0", "172.16.16.0/20"));
  assert.ok(inBlock("1.2.3.4", "0.0.0.0/0"));
  assert.not.ok(inBlock("::1", "0.0.0.0/0"), "families do not mix");
});

test("IPv6 blocks, with :: in any position and an embedded IPv4 tail", () => {
  assert.ok(inBlock("2001:db8::1", "2001:db8::/32"));
  assert.ok(inBlock("2001:0db8:ffff:0:0:0:0:1", "2001:db8::/32"));
  assert.not.ok(inBlock("2001:db9::1", "2001:db8::/32"));
  assert.ok(inBlock("::1", "::1"));
  assert.ok(inBlock("fe80::1:2", "fe80::/10"));
  assert.ok(inBlock("[2001:db8::5]", "2001:db8::/64"), "bracketed addresses as a Host or socket may give them");
  assert.equal([...parseIp("64:ff9b::1.2.3.4")!.slice(12)], [1, 2, 3, 4]);
  assert.ok(inBlock("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"));
});

test("an IPv4-mapped IPv6 peer counts as its IPv4 address, both ways", () => {
  assert.ok(inBlock("::ffff:10.0.0.1", "10.0.0.0/8"));
  assert.ok(inBlock("::ffff:a00:1", "10.0.0.0/8"));
  assert.ok(inBlock("10.0.0.1", "::ffff:10.0.0.0/104"));
  assert.equal(parseIp("::ffff:127.0.0.1"), parseIp("127.0.0.1"));
});

test("an IPv6 address with a zone ID (a link-local peer) matches on its address; a block never takes a zone", () => {
  assert.ok(inBlock("fe80::1%eth0", "fe80::/10"));
  assert.ok(inBlock("[fe80::1%25eth0]", "fe80::1"), "the URL form of the zone");
  assert.ok(inBlock("fe80::1%3", "fe80::1/128"), "a numeric zone");
  assert.not.ok(inBlock("fe80::2%eth0", "fe80::1"));
  assert.equal(parseIp("fe80::1%eth0"), parseIp("fe80::1"));
  for (const bad of ["10.0.0.1%eth0", "fe80::1%", "fe80::1%a%b", "fe80::1%a/64", "gggg::1%eth0"]) assert.is(parseIp(bad), undefined, bad);
});

test("what is not an address or a block", () => {
  for (const bad of ["", "10.0.0", "10.0.0.256", "010.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/08", "::1/129", "1::2::3", "1:2:3:4:5:6:7:8:9", "gggg::", "fe80::1%eth0", "1.2.3.4::", "[::1]/8", "example.com"]) {
    assert.ok(ipBlockProblem(bad), `accepted ${JSON.stringify(bad)}`);
  }
  assert.is(parseIp("not-an-ip"), undefined);
  assert.is(ipBlockProblem("2001:db8::/32"), undefined);
});

test.run();
