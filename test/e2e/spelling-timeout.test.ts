// End to end: the seed's 1 s timeout for a-service (a-service-virtual-service.yaml, unmodified)
// in the spelling service's sidecar. a-service answers after 2 s: its call gets 504 UT from the
// sidecar after 1 s, and the spelling service answers "?" for that letter, as the original demo.
// The seed's DestinationRule (consecutiveErrors 1) then ejects a-service: the next call is 503 UH.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { platform } from "../../runtime/platform/index.ts";
import { runScript } from "../../runtime/platform/process.ts";
import { curl, root, serviceEntry, startProcess, startSidecar, stopAll, tempConfig } from "../support/mesh.ts";

const seed = `${root}demo/alphabet/istio`;

test.after(() => stopAll());

async function alphabetApp(name: string, extra: string[] = []) {
  const app = startProcess(`${root}demo/alphabet/alphabet.ts`, ["--port", "0", "--name", name, ...extra]);
  const [, address] = await app.waitFor(/listening on (\S+)/);
  return address;
}

test("a slow a-service: 504 UT after 1 s at the sidecar, and spelling falls back to ?", async () => {
  const slowA = await alphabetApp("a-service", ["--delay-ms", "2000"]);
  const b = await alphabetApp("b-service");
  const c = await alphabetApp("c-service");
  const files: Record<string, string> = {};
  for (const [name, address] of [["a-service", slowA], ["b-service", b], ["c-service", c]]) {
    files[`${name}-vs.yaml`] = await platform.readTextFile(`${seed}/${name}-virtual-service.yaml`);
    files[`${name}-dr.yaml`] = await platform.readTextFile(`${seed}/${name}-destination.yaml`);
    files[`${name}-se.yaml`] = serviceEntry(name, `${name}.default.svc.cluster.local`, [{ address, labels: { version: "v1" } }]);
  }
  const sidecar = await startSidecar(await tempConfig(files), ["--labels", "app=spelling-service,version=v1"]);

  const spelling = runScript(`${root}demo/alphabet/spelling.ts`, ["--port", "0"], { env: { HTTP_PROXY: `http://${sidecar.outbound}`, http_proxy: `http://${sidecar.outbound}` } });
  try {
    const [, address] = await spelling.waitFor(/listening on (\S+?)[,\s]/);
    const r = await curl([`http://${address}/api/spelling?word=abc`]);
    assert.is(r.status, 200);
    assert.equal(JSON.parse(r.body), ["?", "Bravo", "Charlie"]);
    const log = await curl([`http://${sidecar.admin}/clusters`]);
    const cluster = JSON.parse(log.body).find((x: { name: string }) => x.name === "outbound|8080|v1|a-service.default.svc.cluster.local");
    // UT at the sidecar (not the client's own 2 s timeout) is what made spelling fall back
    assert.is(cluster.stats.flags.UT, 1, "the timed-out call was answered 504 UT");
    const next = await curl(["-H", "Host: a-service:8080", `http://${sidecar.outbound}/api/alphabet/a`]);
    assert.is(next.status, 503);
    assert.is(next.headers["x-dietmesh-response-flags"], "UH", "ejected after one gateway error");
  } finally {
    spelling.kill("SIGKILL");
  }
});

test.run();
