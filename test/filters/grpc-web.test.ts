// The gRPC-Web filter's answer to a text body that is not base64, in process: the rest of the chain
// reads the decoded body as the router's upstream try would, fails on it and answers (or throws) as
// the router does; the filter puts Envoy's 400 in that answer's place, with Envoy's response-code
// details for the check that failed and without the flags of the try it aborted. A good body's
// answer passes. The e2e test (test/e2e/grpc-web.test.ts) drives the same through a real gateway.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { grpcWebFilter } from "../../runtime/filters/grpc-web.ts";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import { HeaderList } from "../../runtime/exchange/header-list.ts";
import { localReply } from "../../runtime/exchange/local-reply.ts";
import { ProxyError } from "../../runtime/exchange/errors.ts";
import { responseOfBytes } from "../../runtime/exchange/known-body.ts";
import type { Exchange } from "../../runtime/filters/chain.ts";
import type { HttpResponse } from "../../runtime/exchange/types.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function exchangeWith(body: string): Exchange {
  const headers = new HeaderList([["host", "a.example"], ["content-type", "application/grpc-web-text"]]);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes(body));
      controller.close();
    },
  });
  return {
    request: { method: "POST", url: "http://a.example/s/M", headers, body: stream },
    conn: { remoteAddress: "10.0.0.9", remotePort: 1234 },
    facts: { method: "POST", scheme: "http", authority: "a.example", path: "/s/M", query: "", headers, port: 80 },
    record: new RequestRecord(0),
  };
}

/** the router's side: reads the whole body; a body that fails to read makes a reset upstream try (UC) */
function upstreamReads(thrown: boolean) {
  return async (exchange: Exchange): Promise<HttpResponse> => {
    try {
      for await (const _ of exchange.request.body!);
    } catch (error) {
      if (thrown) throw error;
      return localReply(new ProxyError("upstream-reset"), exchange.record);
    }
    return responseOfBytes(new Uint8Array(0), { status: 200, headers: { "content-type": "application/grpc", "grpc-status": "0" } });
  };
}

for (const thrown of [false, true]) {
  test(`bad base64 (the upstream side ${thrown ? "throws" : "answers"}): 400 with Envoy's details, no flag of the aborted try`, async () => {
    for (const [body, details] of [["YW!j", "grpc_base_64_decode_failed"], ["YWJjZ", "grpc_base_64_decode_failed_bad_size"]]) {
      const ex = exchangeWith(body);
      const response = await grpcWebFilter(upstreamReads(thrown))(ex);
      assert.is(response.status, 400, body);
      assert.is(response.headers.get("grpc-status"), "13");
      assert.is(response.headers.get("grpc-message"), "Bad gRPC-web request, invalid base64 data.");
      assert.is(ex.record.details, details);
      assert.is(ex.record.flagText, "");
    }
  });
}

test("a good text body's answer passes as gRPC-Web", async () => {
  const ex = exchangeWith("YWJj");
  const response = await grpcWebFilter(upstreamReads(false))(ex);
  assert.is(response.status, 200);
  assert.is(response.headers.get("grpc-status"), "0");
  assert.is(response.headers.get("content-type"), "application/grpc-web+proto");
});

test.run();
