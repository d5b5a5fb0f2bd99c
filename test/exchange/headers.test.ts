// Hop-by-hop removal (RFC 9110 §7.6.1): the same fields go whether the headers are a HeaderList (one
// pass, names tested by length) or a Web Headers (one delete per name), names listed in Connection
// too — except Host, which a client may not make a proxy drop.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { stripHopByHop } from "../../runtime/exchange/headers.ts";
import { HeaderList } from "../../runtime/exchange/header-list.ts";

const HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
// same lengths as hop-by-hop names, and near misses: they must stay
const KEEP = ["x-a", "accept", "tee", "trailers", "upgrades", "keep-alive2", "x-connection", "proxy-connectio", "content-length", "host"];

for (const make of [(p: [string, string][]) => new HeaderList(p), (p: [string, string][]) => new Headers(p)]) {
  const kind = make([]).constructor.name;
  test(`${kind}: every hop-by-hop field goes, every other stays`, () => {
    const fields: [string, string][] = [...KEEP.map((n): [string, string] => [n, "k"]), ...HOP.filter((n) => n !== "connection").map((n): [string, string] => [n, "h"])];
    const headers = make(fields);
    stripHopByHop(headers);
    assert.equal([...headers.keys()].sort(), [...KEEP].sort());
  });

  test(`${kind}: names listed in Connection go too, but never Host`, () => {
    const headers = make([["connection", "close, X-Private, host"], ["x-private", "1"], ["host", "a.example"], ["x-public", "2"], ["te", "trailers"]]);
    stripHopByHop(headers);
    assert.equal([...headers.keys()].sort(), ["host", "x-public"]);
  });
}

test.run();
