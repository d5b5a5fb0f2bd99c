// The Kubernetes registry through the conformance suite: the test API server, real HTTP, list and
// watch of Services, EndpointSlices and Pods.
import { registryConformance } from "./registry-conformance.ts";
import { kubeFixture } from "./kubernetes-fixture.ts";

const test = registryConformance("kubernetes", () => kubeFixture());

test.run();
