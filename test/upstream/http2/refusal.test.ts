// HTTP/2 over TLS: mesh mTLS targets go ahead (h2 inside mTLS), TLS origination is refused with a
// reason logged once per address, plaintext goes ahead.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { refuseTlsForHttp2 } from "../../../runtime/upstream/http2/refusal.ts";
import type { TlsTarget } from "../../../runtime/upstream/http1/index.ts";

const mesh: TlsTarget = { credentials: () => null, verifyPeer: () => null };
const origination: TlsTarget = { ...mesh, origination: { serverName: "api.example", insecureSkipVerify: false, material: async () => ({}) } };

test("mesh mTLS and plaintext go ahead; origination is refused, told once per address", () => {
  const warned: string[] = [];
  const targets: Record<number, TlsTarget | null> = { 15006: mesh, 443: origination, 9000: null };
  const refuse = refuseTlsForHttp2((_host, port) => targets[port], "GRPC", (m) => warned.push(m));
  assert.is(refuse("10.0.0.1", 15006), undefined);
  assert.is(refuse("10.0.0.1", 9000), undefined);
  assert.match(refuse("10.0.0.1", 443)!, "10.0.0.1:443 is a GRPC port reached over TLS origination");
  refuse("10.0.0.1", 443);
  assert.is(warned.length, 1);
});

test.run();
