// The demo ships the seed's hello-istio YAML; it must stay byte-for-byte the original.
import { test } from "uvu";
import { assertSeedCopies, showcaseRoot } from "../support/seed-copies.ts";

const root = new URL("../../", import.meta.url).pathname;

test("demo/hello-istio/istio holds the seed's files unmodified", async () => {
  await assertSeedCopies(`${root}demo/hello-istio/istio`, `${showcaseRoot}/hello-istio`, 12);
});

test.run();
