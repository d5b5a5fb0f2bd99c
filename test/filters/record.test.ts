// The request record and the one local-reply module: flags in the order earned, each once, the
// text the flags header and the logs carry; and a local reply that writes its flag and details on
// the record when there is one (the edge renders the header), or only in the header when there is
// none (a reply made before any chain).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RequestRecord } from "../../runtime/exchange/record.ts";
import { ProxyError, type ProxyErrorCode } from "../../runtime/exchange/errors.ts";
import { detailsFor, FLAGS_HEADER, flagFor, joinFlags, localReply } from "../../runtime/exchange/local-reply.ts";

test("a new record has no flags, empty details and its start time", () => {
  const record = new RequestRecord(1234);
  assert.is(record.flags, null);
  assert.is(record.flagText, "");
  assert.is(record.details, "");
  assert.is(record.startMs, 1234);
  assert.not.ok(record.hasFlag("DI"));
});

test("flags keep the order they were earned in", () => {
  const record = new RequestRecord(0);
  record.addFlag("DI");
  record.addFlag("URX");
  record.addFlag("UF");
  assert.equal(record.flags, ["DI", "URX", "UF"]);
  assert.is(record.flagText, "DI,URX,UF");
  const reverse = new RequestRecord(0);
  reverse.addFlag("UF");
  reverse.addFlag("DI");
  assert.is(reverse.flagText, "UF,DI");
});

test("a flag earned twice is kept once, where it was first earned; an empty flag adds nothing", () => {
  const record = new RequestRecord(0);
  record.addFlag("");
  assert.is(record.flags, null, "an empty flag does not start the list");
  record.addFlag("URX");
  record.addFlag("UF");
  record.addFlag("URX");
  record.addFlag("");
  assert.equal(record.flags, ["URX", "UF"]);
  assert.ok(record.hasFlag("URX"));
  assert.ok(record.hasFlag("UF"));
  assert.not.ok(record.hasFlag("UH"));
  assert.not.ok(record.hasFlag("U"), "no prefix matches");
});

test("with a record: the flag and details go on it, the reply carries no flags header", async () => {
  const record = new RequestRecord(0);
  const reply = localReply(new ProxyError("upstream-connect", "connect ECONNREFUSED"), record);
  assert.is(reply.status, 503);
  assert.is(reply.headers.get(FLAGS_HEADER), null);
  assert.is(reply.headers.get("content-type"), "text/plain");
  assert.is(await reply.text(), "upstream connect error or disconnect/reset before headers. reset reason: connection failure");
  assert.is(record.flagText, "UF");
  assert.is(record.details, "upstream_reset_before_response_started{connection_failure}");
});

test("with a record: flags the error carries go before the reply's own, after what the record holds", () => {
  const record = new RequestRecord(0);
  record.addFlag("DI");
  localReply(new ProxyError("upstream-timeout", undefined, undefined, "URX"), record);
  assert.is(record.flagText, "DI,URX,UT");
  assert.is(record.details, "upstream_response_timeout");
  // a flag the record already earned is not repeated
  const again = new RequestRecord(0);
  again.addFlag("URX");
  localReply(new ProxyError("no-healthy-upstream", undefined, undefined, "URX"), again);
  assert.is(again.flagText, "URX,UH");
});

test("with a record: a reply without a flag (403, 401, 500) sets details only", async () => {
  const cases: [ProxyErrorCode, number, string, string][] = [
    ["forbidden", 403, "RBAC: access denied", "rbac_access_denied_matched_policy[none]"],
    ["unauthenticated", 401, "Jwt verification fails", "jwt_authn_access_denied{Jwt_verification_fails}"],
    ["internal", 500, "internal error", "internal_error"],
  ];
  for (const [code, status, body, details] of cases) {
    const record = new RequestRecord(0);
    const reply = localReply(new ProxyError(code), record);
    assert.is(reply.status, status, code);
    assert.is(await reply.text(), body, code);
    assert.is(record.flags, null, code);
    assert.is(record.details, details, code);
    assert.is(reply.headers.get(FLAGS_HEADER), null, code);
  }
});

test("a fault abort answers with the configured status and extra headers, flag FI", async () => {
  const record = new RequestRecord(0);
  const reply = localReply(new ProxyError("fault-abort", undefined, 418), record);
  assert.is(reply.status, 418);
  assert.is(await reply.text(), "fault filter abort");
  assert.is(record.flagText, "FI");
  assert.is(record.details, "fault_filter_abort");
  const grpc = localReply(new ProxyError("fault-abort", undefined, 200, "", { "content-type": "application/grpc", "grpc-status": "14" }), new RequestRecord(0));
  assert.is(grpc.status, 200);
  assert.is(grpc.headers.get("content-type"), "application/grpc", "the error's headers win over the default content type");
  assert.is(grpc.headers.get("grpc-status"), "14");
});

test("without a record: the flags travel only in the header", async () => {
  const reply = localReply(new ProxyError("bad-request", "bare LF"));
  assert.is(reply.status, 400);
  assert.is(reply.headers.get(FLAGS_HEADER), "DPE");
  assert.is(await reply.text(), "Bad Request");
  const earned = localReply(new ProxyError("upstream-connect", undefined, undefined, "DI,URX"));
  assert.is(earned.headers.get(FLAGS_HEADER), "DI,URX,UF");
  const none = localReply(new ProxyError("forbidden"));
  assert.is(none.status, 403);
  assert.not.ok(none.headers.has(FLAGS_HEADER), "no flag, no header");
});

test("one flag per failure: a connect failure is UF, a reset UC, and every code has details", () => {
  const flags: Record<ProxyErrorCode, string> = {
    "no-route": "NR",
    "no-healthy-upstream": "UH",
    "upstream-connect": "UF",
    "upstream-reset": "UC",
    "upstream-protocol": "UPE",
    "upstream-timeout": "UT",
    overflow: "UO",
    "fault-abort": "FI",
    "bad-request": "DPE",
    "invalid-request": "",
    "invalid-grpc-web": "",
    unauthenticated: "",
    forbidden: "",
    "upgrade-refused": "",
    internal: "",
  };
  for (const [code, flag] of Object.entries(flags) as [ProxyErrorCode, string][]) {
    assert.is(flagFor(code), flag, code);
    assert.ok(detailsFor(code).length > 0, `${code} has details`);
  }
  assert.is(detailsFor("no-route"), "route_not_found");
  assert.is(detailsFor("upstream-protocol"), "upstream_reset_before_response_started{protocol_error}");
});

test("joinFlags joins two flag lists, either of which may be empty", () => {
  assert.is(joinFlags("DI", "FI"), "DI,FI");
  assert.is(joinFlags("", "UF"), "UF");
  assert.is(joinFlags("URX", ""), "URX");
  assert.is(joinFlags("", ""), "");
});

test.run();
