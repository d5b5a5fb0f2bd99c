// config/load-engines.ts: which lazily loaded packages a config needs — re2js for a regex anywhere
// (a StringMatch, a uriRegexRewrite, a CORS origin), jose for jwtRules — found in parsed objects as
// in a loaded config, and a caller's cyclic object does not hang the walk. A reload walks only
// resources it has not seen (frozen ones found to need nothing are remembered).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { enginesNeeded } from "../../runtime/config/load-engines.ts";

const vs = (http: unknown[]) => ({ apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "r" }, spec: { hosts: ["r"], http } });

test("a plain config needs neither", () => {
  assert.equal(enginesNeeded([vs([{ match: [{ uri: { prefix: "/a" } }], route: [{ destination: { host: "r" } }] }])]), { regex: false, jose: false });
  assert.equal(enginesNeeded({ virtualServices: [], requestAuthentications: [] }), { regex: false, jose: false });
});

test("a regex anywhere needs re2js: a header match, a uriRegexRewrite, a CORS origin", () => {
  assert.equal(enginesNeeded([vs([{ match: [{ headers: { x: { regex: "a.+" } } }] }])]).regex, true);
  assert.equal(enginesNeeded([vs([{ rewrite: { uriRegexRewrite: { match: "^/a(.*)", rewrite: "/\\1" } } }])]).regex, true);
  assert.equal(enginesNeeded([vs([{ corsPolicy: { allowOrigins: [{ regex: ".*" }] } }])]).regex, true);
});

test("jwtRules need jose, in objects and in a loaded config alike", () => {
  const ra = { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "j" }, spec: { jwtRules: [{ issuer: "i", jwksUri: "https://i/jwks" }] } };
  assert.equal(enginesNeeded([ra]), { regex: false, jose: true });
  assert.equal(enginesNeeded({ requestAuthentications: [ra] }), { regex: false, jose: true });
});

test("a cyclic object is walked once", () => {
  const a: Record<string, unknown> = { kind: "VirtualService" };
  a.self = a;
  a.spec = { http: [{ match: [{ uri: { regex: "/x" } }] }] };
  assert.equal(enginesNeeded([a, a]), { regex: true, jose: false });
});

test("a frozen resource that needs nothing is walked once; an unfrozen one, or one that needs a package, every time", () => {
  let reads = 0;
  // a getter counts the walk's visits (a reload keeps unchanged resources as the same frozen objects)
  const counted = (frozen: boolean, spec: unknown) => {
    const r = { kind: "VirtualService", get spec() { reads++; return spec; } };
    return frozen ? Object.freeze(r) : r;
  };
  const plain = counted(true, { http: [{ route: [{ destination: { host: "r" } }] }] });
  assert.equal(enginesNeeded({ virtualServices: [plain] }), { regex: false, jose: false });
  assert.equal(enginesNeeded({ virtualServices: [plain] }), { regex: false, jose: false });
  assert.is(reads, 1);
  reads = 0;
  const open = counted(false, { http: [] });
  enginesNeeded([open]);
  enginesNeeded([open]);
  assert.is(reads, 2);
  const regex = counted(true, { http: [{ match: [{ uri: { regex: "/x" } }] }] });
  assert.equal(enginesNeeded({ virtualServices: [plain, regex] }).regex, true);
  assert.equal(enginesNeeded({ virtualServices: [plain, regex] }).regex, true);
});

test.run();
