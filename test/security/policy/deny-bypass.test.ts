// The classic ways around a DENY on a path or a host — encodings, dot-segments, backslashes,
// doubled slashes, fragments, case, trailing dots, ports — run through normalizePath in each
// mode and then the authorizer, as the inbound path will. Each mode's list says what it catches;
// the "not covered" lists pin down, honestly, what a mode leaves to the backend (as Istio's docs do).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileAuthorization } from "../../../runtime/security/policy/authorization.ts";
import { isUpperCaseMethod, normalizePath, type PathNormalization } from "../../../runtime/security/policy/path-normalize.ts";
import type { AuthzAttributes } from "../../../runtime/security/policy/attributes.ts";
import { authz, loadPolicies } from "./load-policies.ts";

const workload = { namespace: "shop", labels: { app: "web" } };
const config = await loadPolicies(
  authz("deny-admin", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin, /admin/*]\n", { namespace: "shop" }),
  authz("deny-internal-host", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        hosts: [internal.example.com]\n", { namespace: "shop" }),
  authz("deny-delete", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        methods: [DELETE]\n", { namespace: "shop" }),
);
const authorize = compileAuthorization(config.authorizationPolicies, workload);

/** what the inbound path does: normalize (a 400 also stops the request), then authorize */
function outcome(rawTarget: string, mode: PathNormalization, over: Partial<AuthzAttributes> = {}): "400" | "denied" | "allowed" {
  const n = normalizePath(rawTarget, mode);
  if (!n.ok) return "400";
  const attrs: AuthzAttributes = { host: "web.shop", method: "GET", path: n.path, port: 8080, headers: new Headers(), sourceIp: "10.0.0.1", remoteIp: "10.0.0.1", ...over };
  return authorize(attrs).allowed ? "allowed" : "denied";
}

const ALWAYS_CAUGHT = [
  "/admin", "/admin/", "/admin/users", "/admin?x=1", "/admin#frag", "/admin/#x", "/admin%00", "/%00admin",
];
const CAUGHT_FROM_BASE = [
  "/./admin", "/x/../admin", "/x/../../admin", "/public/../admin", "/%2e%2e/admin", "/x/%2E%2E/admin", "/x/.%2e/admin",
  "/x/..\\admin", "/admin\\users", "/x\\..\\admin", "/%61dmin", "/admi%6e/users",
  "http://web.shop/x/../admin", "/admin/./", "/admin/x/..",
];
const CAUGHT_FROM_MERGE = ["//admin", "/x/..//admin", "///admin/users", "//admin/"];
const CAUGHT_ONLY_BY_DECODE = ["/x/..%2Fadmin", "/x/..%2fadmin", "/x/..%5cadmin", "/admin%2Fusers", "/admin%5cusers", "/%2Fadmin"];
/** no mode covers these; the backend must not treat them as /admin either (docs/security.md) */
const NOT_COVERED = ["/Admin", "/ADMIN/users", "/x/%252e%252e/admin", "/admin;x=1", "/admin%20"];

test("NONE: only the exact forms, %00 and the fragment", () => {
  for (const t of ALWAYS_CAUGHT) assert.is.not(outcome(t, "NONE"), "allowed", t);
  for (const t of ["/./admin", "/x/../admin", "//admin", "/%2e%2e/admin", "/x/..\\admin"]) assert.is(outcome(t, "NONE"), "allowed", `NONE does not normalize ${t}`);
  assert.is(outcome("\\admin", "NONE"), "400", "a target must start with /");
});

test("BASE (the default): dot-segments, encoded unreserved characters, backslashes", () => {
  for (const t of [...ALWAYS_CAUGHT, ...CAUGHT_FROM_BASE]) assert.is.not(outcome(t, "BASE"), "allowed", t);
  for (const t of [...CAUGHT_FROM_MERGE, ...CAUGHT_ONLY_BY_DECODE]) assert.is(outcome(t, "BASE"), "allowed", `BASE leaves ${t} alone`);
});

test("MERGE_SLASHES: BASE plus doubled slashes", () => {
  for (const t of [...ALWAYS_CAUGHT, ...CAUGHT_FROM_BASE, ...CAUGHT_FROM_MERGE]) assert.is.not(outcome(t, "MERGE_SLASHES"), "allowed", t);
  for (const t of CAUGHT_ONLY_BY_DECODE) assert.is(outcome(t, "MERGE_SLASHES"), "allowed", `MERGE_SLASHES leaves ${t} alone`);
});

test("DECODE_AND_MERGE_SLASHES: MERGE_SLASHES plus encoded / and \\", () => {
  for (const t of [...ALWAYS_CAUGHT, ...CAUGHT_FROM_BASE, ...CAUGHT_FROM_MERGE, ...CAUGHT_ONLY_BY_DECODE]) {
    assert.is.not(outcome(t, "DECODE_AND_MERGE_SLASHES"), "allowed", t);
  }
});

test("not covered by any mode: letter case, double encoding, path parameters, other encoded bytes", () => {
  for (const mode of ["NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"] as const) {
    for (const t of NOT_COVERED) assert.is(outcome(t, mode), "allowed", `${mode} ${t}`);
  }
});

test("hosts: case, trailing dots and a port do not get past a DENY on a host", () => {
  for (const host of ["internal.example.com", "INTERNAL.Example.COM", "internal.example.com.", "internal.example.com..", "internal.example.com:8080", "Internal.Example.Com.:80"]) {
    assert.is(outcome("/", "BASE", { host }), "denied", host);
  }
  assert.is(outcome("/", "BASE", { host: "internal.example.com.evil" }), "allowed");
});

test("methods: a lower-case method is a 400 before it can miss a DENY", () => {
  assert.is(outcome("/", "BASE", { method: "DELETE" }), "denied");
  assert.not.ok(isUpperCaseMethod("delete"));
  assert.not.ok(isUpperCaseMethod("Delete"));
});

test.run();
