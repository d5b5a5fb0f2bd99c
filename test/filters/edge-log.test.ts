// The edge logs an unexpected throw — the request answered 500 — at "error", so --log-level warn
// or error still shows it; a ProxyError is an ordinary local reply and logs nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { edgeHandler } from "../../runtime/filters/edge.ts";
import { ProxyError } from "../../runtime/exchange/errors.ts";
import type { Chain } from "../../runtime/filters/chain.ts";

function edge(chain: Chain) {
  const logged: { message: string; level?: string }[] = [];
  const handler = edgeHandler({
    chain,
    facts: (request) => ({ method: request.method, scheme: "http", authority: "svc", path: "/", query: "", headers: request.headers, port: 80 }),
    log: (message, level) => void logged.push({ message, level }),
  });
  const send = async () => handler(new Request("http://svc/"), { remoteAddress: "10.0.0.9", remotePort: 1234 });
  return { send, logged };
}

test("a throw that becomes a 500 is logged at error (thrown at once or from a promise)", async () => {
  for (const chain of [() => { throw new Error("boom"); }, async () => { throw new Error("boom"); }] as Chain[]) {
    const { send, logged } = edge(chain);
    assert.is((await send()).status, 500);
    assert.is(logged.length, 1);
    assert.match(logged[0].message, /^internal error: .*boom/);
    assert.is(logged[0].level, "error");
  }
});

test("a ProxyError is a local reply, not logged", async () => {
  const { send, logged } = edge(() => { throw new ProxyError("no-route"); });
  assert.is((await send()).status, 404);
  assert.equal(logged, []);
});

test.run();
