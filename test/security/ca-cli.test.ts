// `dietmesh ca` end to end, in-process through runCa, with real openssl judging the files:
// `openssl verify -x509_strict` for EC and RSA CAs, the URI SAN in `openssl x509 -text`, key modes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runCa } from "../../runtime/cli/ca.ts";
import { UsageError } from "../../runtime/cli/args.ts";
import { loadCaDir } from "../../runtime/security/ca-store.ts";
import { certificatesFromPem } from "../../runtime/security/pem.ts";
import { authenticateCaller } from "../../runtime/security/tokens.ts";
import { platform } from "../../runtime/platform/index.ts";
import { runCommand, runScript } from "../../runtime/platform/process.ts";
import { cli } from "../support/mesh.ts";
import { systemClock } from "../../runtime/lib/clock.ts";

const root = await platform.makeTempDir("dietmesh-ca-cli-");

async function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  const child = runCommand(cmd, args);
  const code = await child.exited;
  return { code, out: child.lines.join("\n") };
}

async function ca(argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  assert.is(await runCa(argv, { print: (l) => lines.push(l) }), 0);
  return lines;
}

const mode = async (path: string) => (await run("stat", ["-c", "%a", path])).out.trim();

for (const keyType of ["ec-p256", "rsa-2048"]) {
  test(`${keyType}: init, issue, and openssl verify -x509_strict accepts the chain`, async () => {
    const dir = `${root}/${keyType}`;
    const out = `${dir}-workload`;
    const [initLine] = await ca(["init", "--dir", dir, "--trust-domain", "cluster.local", "--key-type", keyType]);
    assert.match(initLine, /CA for trust domain cluster.local/);
    assert.equal(await platform.readDir(dir), ["ca.json", "root-cert.pem", "root-key.pem", "token-key.pem"]);
    assert.is(await mode(`${dir}/root-key.pem`), "600");
    assert.is(await mode(`${dir}/token-key.pem`), "600");
    const [issueLine] = await ca(["issue", "--dir", dir, "--namespace", "default", "--service-account", "sleep", "--out", out]);
    assert.match(issueLine, /^spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep in /);
    assert.equal(await platform.readDir(out), ["cert-chain.pem", "key.pem", "root-cert.pem"]);
    assert.is(await mode(`${out}/key.pem`), "600");
    assert.match(await platform.readTextFile(`${out}/key.pem`), /^-----BEGIN PRIVATE KEY-----\n/);

    const verify = await run("openssl", ["verify", "-x509_strict", "-CAfile", `${out}/root-cert.pem`, `${out}/cert-chain.pem`]);
    assert.is(verify.code, 0, verify.out);
    assert.match(verify.out, /cert-chain.pem: OK/);
    const rootStrict = await run("openssl", ["verify", "-x509_strict", "-CAfile", `${dir}/root-cert.pem`, `${dir}/root-cert.pem`]);
    assert.is(rootStrict.code, 0, rootStrict.out);

    const text = (await run("openssl", ["x509", "-in", `${out}/cert-chain.pem`, "-noout", "-text"])).out;
    assert.match(text, /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/sleep/);
    assert.match(text, /CA:FALSE/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    // the key in key.pem is the one the certificate certifies
    const certPub = (await run("openssl", ["x509", "-in", `${out}/cert-chain.pem`, "-noout", "-pubkey"])).out;
    const keyPub = (await run("openssl", ["pkey", "-in", `${out}/key.pem`, "-pubout"])).out;
    assert.is(certPub.trim(), keyPub.trim());
  });
}

test("--ttl sets the certificate's life; the token sub-command prints a JWT the CA accepts", async () => {
  const dir = `${root}/ec-p256`;
  const out = `${root}/short`;
  await ca(["issue", "--dir", dir, "--namespace", "shop", "--service-account", "cart", "--out", out, "--ttl", "1h"]);
  const [leaf] = certificatesFromPem(await platform.readTextFile(`${out}/cert-chain.pem`));
  assert.is(leaf.notAfter.getTime() - leaf.notBefore.getTime(), 65 * 60_000, "1 h plus the 5 min back-dating");
  const [token] = await ca(["token", "--dir", dir, "--namespace", "shop", "--service-account", "cart", "--ttl", "10m"]);
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  const { tokenKey } = await loadCaDir(dir);
  const caller = await authenticateCaller(token, { localKeys: tokenKey.jwks, audience: "istio-ca", clock: systemClock });
  assert.equal(caller, { namespace: "shop", serviceAccount: "cart" });
  const [other] = await ca(["token", "--dir", dir, "--namespace", "shop", "--service-account", "cart", "--audience", "vault"]);
  await authenticateCaller(other, { localKeys: tokenKey.jwks, audience: "istio-ca", clock: systemClock }).then(
    () => assert.unreachable("wrong audience accepted"),
    (e) => assert.is(e.code, "token-invalid"),
  );
});

test("init refuses to overwrite an existing CA", async () => {
  await runCa(["init", "--dir", `${root}/ec-p256`], { print: () => {} }).then(
    () => assert.unreachable("overwrote a CA"),
    (e) => assert.is(e.code, "ca-dir"),
  );
});

test("a DIETMESH_<FLAG> set for the proxies in the same environment does not stop a sub-command it does not apply to; on the command line it does", async () => {
  const child = runScript(cli, ["ca", "init", "--dir", `${root}/from-env`], { env: { DIETMESH_NAMESPACE: "shop", DIETMESH_SERVICE_ACCOUNT: "cart" } });
  assert.is(await child.exited, 0, child.lines.join("\n"));
  const given = runScript(cli, ["ca", "init", "--dir", `${root}/from-argv`, "--namespace", "shop"]);
  assert.is(await given.exited, 2);
  assert.match(given.lines.join("\n"), /--namespace does not apply to ca init/);
});

test("usage errors name the problem", async () => {
  const dir = `${root}/ec-p256`;
  const cases: [string[], RegExp][] = [
    [[], /sub-command/],
    [["sign", "--dir", dir], /sub-command/],
    [["init"], /--dir is required/],
    [["init", "--dir", `${root}/x`, "--out", "y"], /--out does not apply to ca init/],
    [["init", "--dir", `${root}/x`, "--key-type", "dsa"], /--key-type/],
    [["init", "--dir", `${root}/x`, "--trust-domain", "Bad/Domain"], /--trust-domain/],
    [["issue", "--dir", dir, "--namespace", "default", "--out", `${root}/x`], /--service-account is required/],
    [["issue", "--dir", dir, "--namespace", "Default", "--service-account", "a", "--out", `${root}/x`], /DNS-1123/],
    [["token", "--dir", dir, "--namespace", "a", "--service-account", "b", "--ttl", "soon"], /--ttl/],
    [["token", "--dir", dir, "--namespace", "a", "--service-account", "b", "--out", "x"], /does not apply to ca token/],
  ];
  for (const [argv, message] of cases) {
    await runCa(argv, { print: () => {} }).then(
      () => assert.unreachable(`accepted ${argv.join(" ")}`),
      (e) => {
        assert.instance(e, UsageError, `${argv.join(" ")}: ${e}`);
        assert.match(e.message, message);
      },
    );
  }
  assert.not.ok((await platform.readDir(root)).includes("x"), "nothing written on a usage error");
});

test("cleanup", async () => {
  await platform.remove(root);
});

test.run();
