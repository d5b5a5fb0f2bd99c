// The failure classifier: an upstream's invalid response (UpstreamError "protocol") is its own
// kind — Envoy's 502 UPE local reply — while the retry policy and the outlier detector see it as
// the reset it is in Envoy (retried by reset, 5xx and gateway-error; a 503-like gateway failure).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { classifyFailure } from "../../runtime/router/classify.ts";
import { UpstreamError } from "../../runtime/platform/types.ts";
import { ProxyError } from "../../runtime/exchange/errors.ts";
import { FLAGS_HEADER, localReply } from "../../runtime/exchange/local-reply.ts";
import { compileRetryPolicy, DEFAULT_RETRY_ON } from "../../runtime/resilience/retry-policy.ts";

test("a protocol error is 502 UPE with Envoy's body; a reset stays 503 UC", async () => {
  const protocol = classifyFailure(new UpstreamError("protocol", "malformed status line"));
  assert.is(protocol.code, "upstream-protocol");
  const reply = localReply(new ProxyError(protocol.code));
  assert.is(reply.status, 502);
  assert.is(reply.headers.get(FLAGS_HEADER), "UPE");
  assert.is(await reply.text(), "upstream connect error or disconnect/reset before headers. reset reason: protocol error");
  const reset = classifyFailure(new UpstreamError("reset", "closed"));
  assert.is(reset.code, "upstream-reset");
  assert.is(localReply(new ProxyError(reset.code)).status, 503);
});

test("retried as a reset: by reset, 5xx and gateway-error, not by connect-failure or Istio's default", () => {
  const { outcome, local } = classifyFailure(new UpstreamError("protocol", "invalid upstream chunked body"));
  assert.equal(outcome, { kind: "reset" });
  for (const retryOn of ["reset", "5xx", "gateway-error"]) assert.ok(compileRetryPolicy({ attempts: 2, retryOn }).shouldRetry(outcome, "GET"), retryOn);
  for (const retryOn of ["connect-failure", "reset-before-request", DEFAULT_RETRY_ON]) assert.not.ok(compileRetryPolicy({ attempts: 2, retryOn }).shouldRetry(outcome, "GET"), retryOn);
  // the outlier detector folds a local "reset" into 503: consecutive 5xx and gateway failures
  assert.is(local, "reset");
});

test.run();
