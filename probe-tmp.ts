import { platform } from "./runtime/platform/index.ts";
import { checkPaths } from "./runtime/config/check.ts";
const root = "/work/shared/upstream-showcases";
for (const p of [[`${root}/alphabet`], [`${root}/hello-istio/hello-istio.yaml`, `${root}/hello-istio/hello-istio-destination.yaml`, `${root}/hello-istio/hello-istio-gateway.yaml`, `${root}/hello-istio/hello-istio-25-75.yaml`], [`${root}/hello-istio/hello-istio-v2.yaml`]]) {
  const code = await checkPaths(p, platform, console.log);
  console.log("exit", code, "\n");
}
