// The Consul registry through the conformance suite: the fake agent, real HTTP, blocking queries.
import { registryConformance } from "./registry-conformance.ts";
import { consulFixture } from "./consul/fixture.ts";

const test = registryConformance("consul", () => consulFixture());

test.run();
