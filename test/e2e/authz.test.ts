// AuthorizationPolicy end to end, through real sidecar processes. Identities come from one CA dir
// made with the real CLI. Sidecar B (app=b) guards an app; sidecars A (sa a) and C (sa c) call it
// through their outbound listeners (mTLS, automatic), curl calls it in plaintext (B is PERMISSIVE)
// and with `--cert` (CA-issued certificates for other identities). Each policy on B owns a path
// prefix, so one ALLOW policy cannot vouch for another's requests. Separate sidecars (app=paths),
// one per normalization mode, hold a DENY on /admin that path tricks sent raw must not get past.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript } from "../../runtime/platform/process.ts";
import { cli, curl, eventually, serviceEntry, startSidecar, stopAll, tempConfig, type CurlResult, type Sidecar } from "../support/mesh.ts";
import { startTargetEcho, type EchoedRequest, type TargetEcho } from "../support/target-echo.ts";

const DENIED = "RBAC: access denied";
const MODES = ["BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"] as const;
type Mode = (typeof MODES)[number];

let app: TargetEcho;
let work = "";
let bConfig = "";
const dirs: string[] = [];
let a: Sidecar;
let b: Sidecar;
let c: Sidecar;
/** app=paths sidecars by normalization mode; "BASE-plain" has no identity (the runtime's own HTTP server) */
const paths: Record<string, Sidecar> = {};

async function dietmesh(args: string[]): Promise<void> {
  const child = runScript(cli, args);
  const code = await child.exited;
  if (code !== 0) throw new Error(`dietmesh ${args.join(" ")} exited ${code}: ${child.lines.join("\n")}`);
}

function authz(name: string, spec: string, app = "b"): string {
  return `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: default
spec:
  selector:
    matchLabels:
      app: ${app}
${spec}`;
}

const denyAdmin = authz("deny-admin", `  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/admin", "/admin/*"]
`, "paths");

const reloadAllow = authz("reload", `  rules:
  - to:
    - operation:
        paths: ["/reload/*"]
`);
const reloadDeny = authz("reload", `  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/reload/*"]
`);

test.before(async () => {
  app = await startTargetEcho();
  work = await platform.makeTempDir("dietmesh-authz-");
  const ca = `${work}/ca`;
  await dietmesh(["ca", "init", "--dir", ca]);
  await Promise.all([
    dietmesh(["ca", "issue", "--dir", ca, "--namespace", "default", "--service-account", "a", "--out", `${work}/as-a`]),
    dietmesh(["ca", "issue", "--dir", ca, "--namespace", "default", "--service-account", "curl", "--out", `${work}/as-curl`]),
    dietmesh(["ca", "issue", "--dir", ca, "--namespace", "other", "--service-account", "tool", "--out", `${work}/as-other`]),
  ]);
  const bPolicies = await platform.readTextFile(new URL("../support/authz-b-policies.yaml", import.meta.url).pathname);
  bConfig = await tempConfig({ "policies.yaml": bPolicies, "reload.yaml": reloadAllow });
  const pathsConfig = await tempConfig({ "deny-admin.yaml": denyAdmin });
  dirs.push(bConfig, pathsConfig);
  const inbound = ["--app", app.address, "--inbound", "127.0.0.1:0"];
  const withId = (sa: string) => ["--ca-dir", ca, "--service-account", sa];
  const started = await Promise.all([
    startSidecar(bConfig, [...inbound, ...withId("b"), "--labels", "app=b"]),
    ...MODES.map((mode) => startSidecar(pathsConfig, [...inbound, ...withId("paths"), "--labels", "app=paths", "--path-normalization", mode])),
    startSidecar(pathsConfig, [...inbound, "--labels", "app=paths"]),
  ]);
  b = started[0];
  MODES.forEach((mode, i) => (paths[mode] = started[i + 1]));
  paths["BASE-plain"] = started[MODES.length + 1];
  const clientConfig = await tempConfig({ "b.yaml": serviceEntry("b", "b.default.svc.cluster.local", [{ address: b.inbound!, serviceAccount: "b" }]) });
  dirs.push(clientConfig);
  [a, c] = await Promise.all([startSidecar(clientConfig, withId("a")), startSidecar(clientConfig, withId("c"))]);
});

test.after(async () => {
  stopAll();
  await app?.server.stop(true);
  for (const dir of [work, ...dirs]) if (dir) await platform.remove(dir);
});

// ---- the ways to call B ----
const via = (client: () => Sidecar) => (path: string, extra: string[] = []) => curl([...extra, "-H", "Host: b:8080", `http://${client().outbound}${path}`]);
const viaA = via(() => a);
const viaC = via(() => c);
const plain = (path: string, extra: string[] = []) => curl([...extra, `http://${b.inbound}${path}`]);
// -k: an SVID names a SPIFFE ID, not a host name
const withCert = (who: string) => (path: string, extra: string[] = []) =>
  curl(["-k", "--cert", `${work}/${who}/cert-chain.pem`, "--key", `${work}/${who}/key.pem`, ...extra, `https://${b.inbound}${path}`]);
const asA = withCert("as-a");
const asCurl = withCert("as-curl");
const asOther = withCert("as-other");

/** a raw request over mTLS (as sa curl) to B; the reply as text */
async function sClient(request: string): Promise<string> {
  const cert = `-cert ${work}/as-curl/cert-chain.pem -key ${work}/as-curl/key.pem`;
  const child = runCommand("sh", ["-c", `printf '${request}' | openssl s_client -connect ${b.inbound} ${cert} -quiet 2>/dev/null`]);
  await child.exited;
  return child.lines.join("\n");
}

function allowed(r: CurlResult, what: string): EchoedRequest {
  assert.is(r.status, 200, `${what}: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

function denied(r: CurlResult, what: string): void {
  assert.is(r.status, 403, `${what}: ${r.status} ${r.body}`);
  assert.is(r.body, DENIED, what);
}

test("ALLOW by principals: sidecar A (sa a) passes, C (sa c) and plaintext get 403 RBAC: access denied", async () => {
  const seen = allowed(await viaA("/principals/x"), "A via mTLS");
  assert.match(seen.headers["x-forwarded-client-cert"], /URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/a$/);
  denied(await viaC("/principals/x"), "C via mTLS");
  denied(await plain("/principals/x"), "plaintext");
  // a header cannot claim an identity: only a verified certificate sets the principal
  denied(await plain("/principals/x", ["-H", "x-forwarded-client-cert: By=x;URI=spiffe://cluster.local/ns/default/sa/a"]), "plaintext with forged XFCC");
  allowed(await asA("/principals/x"), "curl --cert for sa a");
  denied(await asCurl("/principals/x"), "curl --cert for sa curl");
});

test("ALLOW by notPrincipals: everyone but C, plaintext included (no principal matches no value)", async () => {
  allowed(await viaA("/not-principals/x"), "A");
  denied(await viaC("/not-principals/x"), "C");
  allowed(await plain("/not-principals/x"), "plaintext");
  allowed(await asCurl("/not-principals/x"), "curl --cert sa curl");
});

test("ALLOW by namespaces: only a certificate from namespace other", async () => {
  allowed(await asOther("/namespaces/x"), "curl --cert ns other");
  denied(await viaA("/namespaces/x"), "A (ns default)");
  denied(await asCurl("/namespaces/x"), "curl --cert ns default");
  denied(await plain("/namespaces/x"), "plaintext");
});

test("DENY on a path beats an ALLOW that matches the same request", async () => {
  allowed(await viaA("/both/open"), "A on an allowed path");
  denied(await viaA("/both/secret"), "A on the denied path");
  denied(await viaC("/both/open"), "C is not allowed at all");
});

test("AUDIT neither blocks nor allows, and is counted in dietmesh_authz_decisions_total", async () => {
  const audits = async () => Number(/dietmesh_authz_decisions_total\{result="audit",policy="default\/audit"\} (\d+)/.exec((await curl([`http://${b.admin}/stats/prometheus`])).body)?.[1] ?? 0);
  const before = await audits();
  allowed(await plain("/audit/x"), "audited and allowed");
  allowed(await viaC("/audit/x"), "audited and allowed, via C");
  denied(await plain("/audit-only/x"), "audited, no ALLOW matches");
  assert.is((await audits()) - before, 3, "each audited request counted");
});

test("to.operation methods: GET and HEAD pass, POST is denied, a lower-case method is 400", async () => {
  allowed(await plain("/methods/x"), "GET");
  assert.is((await plain("/methods/x", ["-I"])).status, 200, "HEAD");
  denied(await plain("/methods/x", ["-X", "POST", "-d", "x"]), "POST");
  // Istio answers 400 to a method not in upper case, so "get"/"delete" cannot dodge a method rule.
  // The mTLS listener's HTTP parser and Bun's own server refuse it before the sidecar sees it (400,
  // or no reply); Deno's server hands it on, so there the sidecar's own check must answer.
  for (const [where, url] of [["B", () => `http://${b.inbound}/methods/x`], ["BASE-plain", () => `http://${paths["BASE-plain"].inbound}/public`]] as const) {
    for (const method of ["get", "delete", "Post"]) {
      const r = await curl(["-X", method, url()]).catch(() => undefined);
      const what = `${where} ${method}: ${r?.status} ${r?.body}`;
      if (platform.name === "deno" && where === "BASE-plain") assert.equal([r?.status, r?.body], [400, "Bad Request"], what);
      else assert.ok(r === undefined || r.status === 400, what);
    }
  }
});

test("to.operation hosts: a DENY on a host holds for any letter case, trailing dot and port", async () => {
  allowed(await plain("/hosts/x", ["-H", "Host: public.example.com"]), "another host");
  for (const host of ["internal.example.com", "Internal.Example.COM", "internal.example.com.", "INTERNAL.example.com.:8080", "internal.example.com:1234", "internal.example.com.."]) {
    denied(await plain("/hosts/x", ["-H", `Host: ${host}`]), `Host: ${host}`);
  }
  // a Connection header naming Host must not strip it before the check
  denied(await plain("/hosts/x", ["-H", "Host: internal.example.com", "-H", "Connection: host"]), "Connection: host");
  const seen = allowed(await plain("/hosts/x", ["-H", "Host: public.example.com", "-H", "Connection: host"]), "Connection: host, another host");
  assert.is(seen.headers.host, "public.example.com", "the app gets the Host that was checked");
  // two Host headers (curl cannot send them; openssl s_client sends bytes as given, over mTLS)
  for (const order of [["public", "internal"], ["internal", "public"]]) {
    const reply = await sClient(`GET /hosts/x HTTP/1.1\r\nHost: ${order[0]}.example.com\r\nHost: ${order[1]}.example.com\r\nConnection: close\r\n\r\n`);
    // never the app's 200: Envoy's 400 for a request with two Hosts
    assert.match(reply, /^HTTP\/1\.1 400 /, `Host ${order.join(", ")}: ${reply}`);
  }
});

test("to.operation hosts with a port match only that port", async () => {
  allowed(await plain("/hostport/x", ["-H", "Host: API.example.com:8080"]), "the host and port");
  denied(await plain("/hostport/x", ["-H", "Host: api.example.com"]), "no port");
  denied(await plain("/hostport/x", ["-H", "Host: api.example.com:9090"]), "another port");
});

test("when request.headers: every value of a repeated header is considered", async () => {
  allowed(await plain("/when/x", ["-H", "x-tier: gold"]), "gold");
  denied(await plain("/when/x", ["-H", "x-tier: silver"]), "silver");
  denied(await plain("/when/x"), "no header");
  allowed(await plain("/when/x", ["-H", "x-tier: silver", "-H", "x-tier: gold"]), "silver then gold (ALLOW values: any matches)");
  // DENY values: a denied value hidden behind an innocent one still denies
  allowed(await plain("/when/x", ["-H", "x-tier: gold", "-H", "x-user: alice"]), "alice");
  denied(await plain("/when/x", ["-H", "x-tier: gold", "-H", "x-user: alice", "-H", "x-user: mallory"]), "alice then mallory");
  denied(await plain("/when/x", ["-H", "x-tier: gold", "-H", "x-user: alice, mallory"]), "alice, mallory in one line");
  // DENY notValues: a trusted value cannot vouch for another sent with it
  allowed(await plain("/when-not/x", ["-H", "x-client: trusted"]), "trusted");
  denied(await plain("/when-not/x", ["-H", "x-client: evil"]), "evil");
  denied(await plain("/when-not/x", ["-H", "x-client: trusted", "-H", "x-client: evil"]), "trusted then evil");
  denied(await plain("/when-not/x"), "no x-client");
});

test("source ipBlocks and source.ip: 127.0.0.1/32 matches loopback, other blocks do not", async () => {
  allowed(await plain("/ip/local/x"), "ipBlocks 127.0.0.1/32, plaintext");
  allowed(await viaA("/ip/local/x"), "ipBlocks 127.0.0.1/32, via A");
  denied(await plain("/ip/other/x"), "ipBlocks 10.0.0.0/8");
  denied(await plain("/ip/not-local/x"), "notIpBlocks 127.0.0.0/8");
  allowed(await plain("/ip/when-local/x"), "when source.ip 127.0.0.1");
  denied(await plain("/ip/when-other/x"), "when source.ip 192.168.0.0/16");
  // X-Forwarded-For is not the peer address
  denied(await plain("/ip/other/x", ["-H", "x-forwarded-for: 10.1.2.3"]), "a forged X-Forwarded-For");
});

test("destination.ip is the address the connection arrived at; connection.sni the server name its TLS asked for", async () => {
  allowed(await plain("/ip/dest-local/x"), "when destination.ip 127.0.0.1, plaintext");
  allowed(await asCurl("/ip/dest-local/x"), "when destination.ip 127.0.0.1, mTLS");
  denied(await plain("/ip/dest-other/x"), "when destination.ip 10.0.0.0/8");
  const port = b.inbound!.split(":")[1];
  const bySni = ["--resolve", `b.example:${port}:127.0.0.1`];
  const cert = ["-k", "--cert", `${work}/as-curl/cert-chain.pem`, "--key", `${work}/as-curl/key.pem`];
  allowed(await curl([...cert, ...bySni, `https://b.example:${port}/ip/sni/x`]), "when connection.sni b.example (case-insensitive)");
  denied(await asCurl("/ip/sni/x"), "TLS without a server name");
  denied(await plain("/ip/sni/x"), "plaintext: no server name");
});

test("a path no policy allows is denied, on every way in", async () => {
  denied(await viaA("/nothing"), "A");
  denied(await plain("/nothing"), "plaintext");
});

// ---- path normalization: DENY /admin on the app=paths sidecars ----

/** sends the request target exactly as given (curl would otherwise clean up dot-segments and drop the fragment) */
const raw = (sidecar: Sidecar, target: string, extra: string[] = []) =>
  curl(["--path-as-is", "--request-target", target, ...extra, `http://${sidecar.inbound}/`]);

const sidecarsFor = (modes: readonly string[]) => modes.map((m) => [m, paths[m]] as const);
const ALL = [...MODES, "BASE-plain"];

/** caught by every mode */
const ALWAYS_DENIED = [
  "/admin", "/admin/", "/admin/users", "/admin?x=1", "/admin#x", "/admin/#/../x",
  "/a/%2e%2e/admin", "/a/%2E%2E/admin", "/a/.%2e/admin", "/a/%2e./admin", "/%2e/admin",
  "/./admin", "/x/../admin", "/x/./../admin", "/x/y/../../admin/z", "/../admin", "/x/../../admin",
  "/%61dmin", "/%61%64%6d%69%6e", "/x\\..\\admin", "/x/..\\admin", "/public\\..\\admin",
  "http://evil.example/admin", "http://evil.example/x/../admin",
];
const ALWAYS_400 = ["/admin%00", "/%00/../admin", "/admin%00.html", "/x/%00/../../admin"];
/** caught only where the mode says so (docs/security.md's table); elsewhere they reach the app as normalized */
const BY_MODE: [target: string, deniedIn: string[], elsewhere: string][] = [
  ["//admin", ["MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"], "//admin"],
  ["/x/..//admin", ["MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"], "//admin"],
  ["///admin/x", ["MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"], "///admin/x"],
  ["/x/..%2Fadmin", ["DECODE_AND_MERGE_SLASHES"], "/x/..%2Fadmin"],
  ["/x/..%2fadmin", ["DECODE_AND_MERGE_SLASHES"], "/x/..%2Fadmin"],
  ["/x/..%5Cadmin", ["DECODE_AND_MERGE_SLASHES"], "/x/..%5Cadmin"],
  ["/admin%2Fx", ["DECODE_AND_MERGE_SLASHES"], "/admin%2Fx"],
  ["/%2Fadmin", ["DECODE_AND_MERGE_SLASHES"], "/%2Fadmin"],
];

test("DENY /admin: the plain path is denied, other paths pass (the DENY is real, and not everything)", async () => {
  for (const [mode, sidecar] of sidecarsFor(ALL)) {
    denied(await raw(sidecar, "/admin"), `${mode} /admin`);
    assert.is(allowed(await raw(sidecar, "/public"), `${mode} /public`).target, "/public", mode);
  }
});

test("DENY /admin is not bypassed by dot-segments, encodings, backslashes, fragments, query or absolute-form, in any mode", async () => {
  for (const [mode, sidecar] of sidecarsFor(ALL)) {
    const results = await Promise.all(ALWAYS_DENIED.map((t) => raw(sidecar, t)));
    results.forEach((r, i) => denied(r, `${mode} ${ALWAYS_DENIED[i]}`));
  }
});

test("%00 in the path is 400 in every mode, and never reaches the app", async () => {
  for (const [mode, sidecar] of sidecarsFor(ALL)) {
    const results = await Promise.all(ALWAYS_400.map((t) => raw(sidecar, t)));
    results.forEach((r, i) => {
      const t = ALWAYS_400[i];
      // every listener sees the raw target (dietmesh's own server), so a "%00" segment followed by
      // ".." is caught on Bun's plaintext port too (Bun's server used to resolve it away first)
      assert.is(r.status, 400, `${mode} ${t}: ${r.status} ${r.body}`);
    });
  }
});

test("merged slashes and decoded %2F/%5C are caught exactly in the modes that cover them; elsewhere the app gets them unchanged", async () => {
  for (const [mode, sidecar] of sidecarsFor(ALL)) {
    const m = mode === "BASE-plain" ? "BASE" : mode;
    for (const [target, deniedIn, elsewhere] of BY_MODE) {
      const r = await raw(sidecar, target);
      if (deniedIn.includes(m)) denied(r, `${mode} ${target}`);
      else assert.is(allowed(r, `${mode} ${target}`).target, elsewhere, `${mode} ${target}`);
    }
  }
});

test("the app receives the normalized path (what was authorized is what it serves), the query as sent", async () => {
  const cases: [target: string, expected: Partial<Record<Mode, string>> & { all?: string }][] = [
    ["/x/../public?q=%2F..&r=a%20b", { all: "/public?q=%2F..&r=a%20b" }],
    ["/a/%2e%2e/public", { all: "/public" }],
    ["/p%75blic/%7Euser", { all: "/public/~user" }],
    ["/public\\x", { all: "/public/x" }],
    ["/public#frag", { all: "/public" }],
    ["/public/a%zz", { all: "/public/a%25zz" }],
    ["/public/%252e%252e/admin", { all: "/public/%252e%252e/admin" }], // never decoded twice
    ["/public/%2fx", { BASE: "/public/%2Fx", MERGE_SLASHES: "/public/%2Fx", DECODE_AND_MERGE_SLASHES: "/public/x" }],
    ["/public//x", { BASE: "/public//x", MERGE_SLASHES: "/public/x", DECODE_AND_MERGE_SLASHES: "/public/x" }],
  ];
  for (const [mode, sidecar] of sidecarsFor(ALL)) {
    const m: Mode = mode === "BASE-plain" ? "BASE" : (mode as Mode);
    for (const [target, expected] of cases) {
      assert.is(allowed(await raw(sidecar, target), `${mode} ${target}`).target, expected.all ?? expected[m], `${mode} ${target}`);
    }
  }
});

// ---- live reload ----

test("replacing the policy file changes the decision within seconds; a rejected file keeps the last good one", async () => {
  allowed(await plain("/reload/x"), "before");
  await platform.writeTextFile(`${bConfig}/reload.yaml`, reloadDeny);
  await eventually(async () => (await plain("/reload/x")).status === 403, 5000, "the DENY to apply");
  denied(await plain("/reload/x"), "after the DENY");
  await platform.writeTextFile(`${bConfig}/reload.yaml`, reloadAllow);
  await eventually(async () => (await plain("/reload/x")).status === 200, 5000, "the ALLOW to apply");
  // CUSTOM is refused at load: the whole change is rejected and the ALLOW stays in force
  const rejectedBefore = b.child.lines.filter((l) => l.includes("config change rejected")).length;
  await platform.writeTextFile(`${bConfig}/reload.yaml`, reloadDeny.replace("action: DENY", "action: CUSTOM"));
  await eventually(async () => b.child.lines.filter((l) => l.includes("config change rejected")).length > rejectedBefore, 5000, "the bad file to be rejected");
  allowed(await plain("/reload/x"), "after a rejected change");
});

test.run();
