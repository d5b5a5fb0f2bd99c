// Differential fuzz of the request-head parser against llhttp (Node's parser, strict, run as
// test/support/llhttp-oracle.mjs): mutated valid and nasty requests go through both; any input one
// accepts and the other refuses, or that both accept with a different method, target, version or
// header list, fails the test, unless it is one of the deliberate differences named in DELIBERATE
// (dietmesh refuses what Envoy refuses). Each input is also fed to the reader in random pieces and
// must give the same answer as in one piece. Seeded: DIETMESH_FUZZ_SEED replays a run;
// DIETMESH_FUZZ_SECONDS runs longer than the default few seconds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { newRequestHead, RequestHeadReader, type HeadError, type RequestHead } from "../../../runtime/exchange/http1/request-head.ts";

const seconds = Number(process.env.DIETMESH_FUZZ_SECONDS ?? 4);
const maxCases = process.env.DIETMESH_FUZZ_SECONDS ? Infinity : 4000;
const seed = Number(process.env.DIETMESH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: small, seedable, good enough to pick mutations */
function prng(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CORPUS = [
  "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /api/v1/reviews/1?x=1&y=%20 HTTP/1.1\r\nHost: reviews:9080\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
  "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
  "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  "GET http://svc.ns:8080/p?q HTTP/1.1\r\nHost: other\r\nProxy-Connection: keep-alive\r\n\r\n",
  "CONNECT svc:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "HEAD /x HTTP/1.0\r\n\r\n",
  "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 10\r\nConnection: close\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
  "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: a\r\nX-Bin: \xe9t\xe9 \x80\xff\r\nX-Tab:\tv\t\r\nX-Empty:\r\n\r\n",
  "\r\n\r\nGET / HTTP/1.1\r\nhost: a\r\nCONTENT-LENGTH: 0\r\n\r\n",
  "DELETE /a/../b HTTP/1.1\r\nHost: a\r\nCookie: a=1; b=2\r\nAuthorization: Bearer x.y.z\r\n\r\n",
  "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n",
  "PATCH /x HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 000\r\n\r\n",
];

const LINES = [
  "Content-Length: 5", "Content-Length: 0", "Content-Length: 5, 5", "Content-Length: 5,6", "Content-Length: -1",
  "Content-Length: 1e3", "Content-Length: 99999999999999999999", "Transfer-Encoding: chunked", "Transfer-Encoding: gzip",
  "Transfer-Encoding: chunked, gzip", "Transfer-Encoding: identity", "transfer-encoding: CHUNKED", "Transfer-Encoding:",
  "Host: b", "Host: a, b", "Host:", "Connection: close", "Connection: keep-alive", "Connection: upgrade",
  "Upgrade: h2c", "Expect: 100-continue", "X: y", "X : y", " X: y", "X\t: y", ":x", "X-Under_score: 1",
];

const INSERTS = ["\r", "\n", " ", "\t", "\x00", "\x80", "\x7f", ":", ",", "\r\n", "/", "\x01", "\xff", ";", "#", "?", "*", "."];

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function mutate(text: string, rand: () => number): string {
  const at = () => Math.floor(rand() * (text.length + 1));
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const steps = 1 + Math.floor(rand() * 3);
  for (let s = 0; s < steps; s++) {
    const head = text.indexOf("\r\n\r\n");
    const lines = (head < 0 ? text : text.slice(0, head)).split("\r\n");
    const rest = head < 0 ? "" : text.slice(head);
    switch (Math.floor(rand() * 10)) {
      case 0: { // flip a byte
        const i = Math.floor(rand() * text.length);
        text = text.slice(0, i) + String.fromCharCode(Math.floor(rand() * 256)) + text.slice(i + 1);
        break;
      }
      case 1: { // insert a nasty byte
        const i = at();
        text = text.slice(0, i) + pick(INSERTS) + text.slice(i);
        break;
      }
      case 2: { // delete a few bytes
        const i = at();
        text = text.slice(0, i) + text.slice(i + 1 + Math.floor(rand() * 3));
        break;
      }
      case 3: { // duplicate a header line
        if (lines.length < 2) break;
        const i = 1 + Math.floor(rand() * (lines.length - 1));
        lines.splice(i, 0, lines[i]);
        text = lines.join("\r\n") + rest;
        break;
      }
      case 4: { // swap two header lines
        if (lines.length < 3) break;
        const i = 1 + Math.floor(rand() * (lines.length - 1));
        const j = 1 + Math.floor(rand() * (lines.length - 1));
        [lines[i], lines[j]] = [lines[j], lines[i]];
        text = lines.join("\r\n") + rest;
        break;
      }
      case 5: { // add a framing or routing line
        lines.splice(1 + Math.floor(rand() * lines.length), 0, pick(LINES));
        text = lines.join("\r\n") + rest;
        break;
      }
      case 6: { // change case of a stretch
        const i = at();
        const j = Math.min(text.length, i + 1 + Math.floor(rand() * 12));
        const stretch = text.slice(i, j);
        text = text.slice(0, i) + (rand() < 0.5 ? stretch.toLowerCase() : stretch.toUpperCase()) + text.slice(j);
        break;
      }
      case 7: { // a long run of one character
        const i = at();
        text = text.slice(0, i) + pick(["a", "/", " ", "0", "%", "\t"]).repeat(1 + Math.floor(rand() * 3000)) + text.slice(i);
        break;
      }
      case 8: { // another method or version
        const line = lines[0];
        if (rand() < 0.5) lines[0] = pick(["GET", "get", "FOO", "PRI", "CONNECT", "OPTIONS", "SOURCE", "G@T", "", "GET "]) + line.slice(line.indexOf(" "));
        else lines[0] = line.slice(0, line.lastIndexOf(" ") + 1) + pick(["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "http/1.1", "HTTP/1.10", "RTSP/1.0", "HTTP/1", "HTTP/ 1.1"]);
        text = lines.join("\r\n") + rest;
        break;
      }
      default: { // another target
        const line = lines[0];
        const sp1 = line.indexOf(" ");
        const sp2 = line.lastIndexOf(" ");
        if (sp1 < 0 || sp2 <= sp1) break;
        const target = pick(["*", "*x", "/", "/a#b", "http://x/y", "HTTP://x", "ftp://x/y", "http:x", "svc:443", "svc", "/a b", "a/b", "?", "http://u@h/", "/\x7f", "%2F", "//x"]);
        lines[0] = line.slice(0, sp1 + 1) + target + line.slice(sp2);
        text = lines.join("\r\n") + rest;
      }
    }
  }
  return text;
}

/** the bytes of the head only: any empty lines before it, up to and with the first CRLFCRLF */
function headOnly(bytes: Uint8Array): Uint8Array | null {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 13 || bytes[i] === 10)) i++;
  for (let j = i + 3; j < bytes.length; j++) {
    if (bytes[j] === 10 && bytes[j - 1] === 13 && bytes[j - 2] === 10 && bytes[j - 3] === 13) return bytes.subarray(0, j + 1);
  }
  return null;
}

interface Answer {
  id: number;
  ok: boolean;
  method?: string;
  url?: string;
  major?: number;
  minor?: number;
  headers?: [string, string][];
  keepAlive?: boolean;
  upgrade?: boolean;
  error?: string;
}

/** one node process running llhttp for the whole test */
class Oracle {
  private child = spawn("node", [new URL("../../support/llhttp-oracle.mjs", import.meta.url).pathname], { stdio: ["pipe", "pipe", "inherit"] });
  private waiting = new Map<number, (answer: Answer) => void>();
  private next = 0;

  constructor() {
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const answer = JSON.parse(line) as Answer;
      this.waiting.get(answer.id)?.(answer);
      this.waiting.delete(answer.id);
    });
  }

  ask(inputs: Uint8Array[]): Promise<Answer[]> {
    let lines = "";
    const answers = inputs.map((bytes) => {
      const id = this.next++;
      lines += JSON.stringify({ id, b64: btoa(String.fromCharCode(...bytes)) }) + "\n";
      return new Promise<Answer>((resolve) => this.waiting.set(id, resolve));
    });
    this.child.stdin!.write(lines);
    return Promise.all(answers);
  }

  close(): void {
    this.child.stdin!.end();
  }
}

interface Ours {
  error: HeadError | null;
  offset: number;
  head: RequestHead;
  rest: string;
}

const TRAILER = latin1Bytes("BODY");

/** our answer, reading input plus a few body bytes in the given pieces */
function ours(input: Uint8Array, cuts: number[]): Ours {
  const all = new Uint8Array(input.length + TRAILER.length);
  all.set(input);
  all.set(TRAILER, input.length);
  const reader = new RequestHeadReader();
  const head = newRequestHead();
  let from = 0;
  for (const cut of [...cuts, all.length]) {
    const offset = reader.read(all.slice(from, cut), head);
    from = cut;
    if (offset >= 0) return { error: null, offset, head, rest: String.fromCharCode(...reader.data.subarray(offset)) + String.fromCharCode(...all.subarray(cut)) };
    if (reader.error) return { error: reader.error, offset, head, rest: "" };
  }
  return { error: { status: 0, details: "incomplete" }, offset: -1, head, rest: "" };
}

function randomCuts(length: number, rand: () => number): number[] {
  if (rand() < 0.2) return Array.from({ length: length - 1 }, (_, i) => i + 1); // one byte at a time
  const cuts = new Set<number>();
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(rand() * (length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const header = (answer: Answer, name: string) => (answer.headers ?? []).filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

/**
 * Deliberate differences: dietmesh follows Envoy and RFC 9112 where llhttp is laxer or stricter.
 * Each returns its name when it explains the disagreement `why` about input between our answer
 * (error, null when we accepted) and llhttp's.
 */
type Explain = (input: string, error: HeadError | null, answer: Answer, why: string) => string | null;
const DELIBERATE: Explain[] = [
  // we take any token as a method (Envoy's Balsa does); llhttp knows a fixed list: asked again with POST
  (_i, error, answer) => (!error && answer.error === "HPE_INVALID_METHOD" ? "custom-method" : null),
  // only HTTP/1.0 and 1.1: llhttp also takes 0.9 (even a request line with no version), 2.0, 3.0,
  // and RTSP/ICE as protocol names
  (input, error, answer) => {
    if (!error || !answer.ok) return null;
    if (answer.major !== 1 || (answer.minor !== 0 && answer.minor !== 1)) return "version";
    return !/^[\r\n]*[^\r\n]* HTTP\/1\.[01]\r\n/.test(input) ? "version" : null;
  },
  // one space between the parts of the request line (llhttp allows several)
  (input, error, answer) => (error?.details === "http1.codec_error" && answer.ok && /^[\r\n]*[^\r\n ]+ {2,}|^[\r\n]*[^\r\n]* {2,}HTTP\//.test(input) ? "request-line-spaces" : null),
  // Host: exactly one without a comma, and present in HTTP/1.1 (llhttp does not look)
  (_i, error, answer) => {
    if (!answer.ok) return null;
    const hosts = header(answer, "host");
    if (error?.details === "http1.invalid_host" && (hosts.length > 1 || hosts.some((h) => h.includes(",")))) return "host";
    if (error?.details === "http1.missing_host" && hosts.length === 0 && answer.minor === 1) return "host";
    return null;
  },
  // Content-Length repeated identically ("5, 5" or two lines) is one length (RFC 9112 §6.3)
  (_i, error, answer) => (!error && (answer.error === "HPE_UNEXPECTED_CONTENT_LENGTH" || answer.error === "HPE_INVALID_CONTENT_LENGTH") ? "content-length-repeat" : null),
  // Transfer-Encoding must be exactly chunked: Envoy answers 501 to any other coding; an empty one
  // is still there, so with Content-Length it is refused (llhttp ignores it)
  (_i, error, answer) => {
    if (!answer.ok || (error?.details !== "http1.invalid_transfer_encoding" && error?.details !== "http1.content_length_and_chunked_not_allowed")) return null;
    return header(answer, "transfer-encoding").join(",").trim().toLowerCase() !== "chunked" ? "transfer-coding" : null;
  },
  // "*" only with OPTIONS, CONNECT only with host:port, absolute-form only with a scheme (llhttp: any)
  (_i, error, answer) => (answer.ok && error?.details === "http1.invalid_url" && /^[\x21-\x7e]+$/.test(answer.url ?? "") ? "target-form" : null),
  // a CONNECT with a body or Transfer-Encoding (Envoy: 400 / 501)
  (_i, error, answer) => (answer.ok && answer.method === "CONNECT" && (error?.details === "http1.body_disallowed" || error?.details === "http1.invalid_transfer_encoding") ? "connect-body" : null),
  // OWS around a coding may be HTAB (RFC 9110 §5.6.1; Envoy trims it); llhttp refuses "chunked\t"
  (input, error, answer) => (!error && answer.error === "HPE_INVALID_TRANSFER_ENCODING" && /(^|\n)transfer-encoding:[^\r\n]*\t/i.test(input) ? "ows-tab" : null),
  // a Content-Length above 2^53 - 1 cannot be counted exactly in a number (llhttp: up to 2^64 - 1)
  (_i, error, answer) => (error?.details === "http1.codec_error" && answer.ok && header(answer, "content-length").some((v) => /[1-9]\d{15}/.test(v)) ? "content-length-huge" : null),
  // Envoy's limits: 60 KiB, 100 headers (the oracle's are higher)
  (_i, error, answer) => (answer.ok && error?.status === 431 ? "limits" : null),
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 closes the connection (llhttp keeps it open)
  (_i, error, answer, why) => (!error && why.startsWith("keepAlive") && answer.minor === 0 && header(answer, "transfer-encoding").length > 0 ? "http10-transfer-encoding" : null),
  // Connection tokens end at OWS, tabs too (llhttp misses "close\t"); close wins over keep-alive
  // (in HTTP/1.0 llhttp lets keep-alive win); Proxy-Connection is not Connection (RFC 9112
  // Appendix C.2.2; llhttp honours it)
  (input, error, answer, why) => {
    if (error || !(why.startsWith("keepAlive") || why.startsWith("upgrade"))) return null;
    if (header(answer, "proxy-connection").length > 0 || /(^|\n)connection:[^\r\n]*\t/i.test(input)) return "connection-tokens";
    const tokens = header(answer, "connection").join(",").toLowerCase().split(",").map((t) => t.trim());
    return tokens.includes("close") && tokens.includes("keep-alive") ? "connection-tokens" : null;
  },
];

function describe(input: string): string {
  return JSON.stringify(input.length > 300 ? input.slice(0, 300) + "…" : input);
}

/** why ours and the oracle's answers differ, or null when they agree */
function disagreement(input: string, mine: Ours, answer: Answer): string | null {
  if (!mine.error && answer.ok) {
    const h = mine.head;
    if (h.method !== answer.method) return `method ${h.method} vs ${answer.method}`;
    if (h.target !== answer.url) return `target ${JSON.stringify(h.target)} vs ${JSON.stringify(answer.url)}`;
    if (answer.major !== 1 || h.minor !== answer.minor) return `version 1.${h.minor} vs ${answer.major}.${answer.minor}`;
    const theirs = (answer.headers ?? []).map(([n, v]) => `${n.toLowerCase()}: ${v}`);
    const mineList = h.names.map((n, i) => `${n}: ${h.values[i]}`);
    if (JSON.stringify(theirs) !== JSON.stringify(mineList)) return `headers ${JSON.stringify(mineList)} vs ${JSON.stringify(theirs)}`;
    if (h.keepAlive !== answer.keepAlive) return `keepAlive ${h.keepAlive} vs ${answer.keepAlive}`;
    if (h.upgrade !== answer.upgrade) return `upgrade ${h.upgrade} vs ${answer.upgrade}`;
    return null;
  }
  if (mine.error && !answer.ok) return null;
  return mine.error ? `we refuse (${mine.error.status} ${mine.error.details}), llhttp accepts` : `we accept, llhttp refuses (${answer.error})`;
}

test(`differential fuzz against llhttp (seed ${seed})`, async () => {
  console.log(`request-fuzz: seed ${seed} (DIETMESH_FUZZ_SEED=${seed} replays), ${seconds} s`);
  const rand = prng(seed);
  const oracle = new Oracle();
  const failures: string[] = [];
  const named = new Map<string, number>();
  let cases = 0;
  let accepted = 0;
  const started = Date.now();
  try {
    while (Date.now() - started < seconds * 1000 && cases < maxCases && failures.length < 10) {
      const inputs: Uint8Array[] = [];
      while (inputs.length < 250) {
        const mutated = latin1Bytes(mutate(CORPUS[Math.floor(rand() * CORPUS.length)], rand));
        const head = headOnly(mutated);
        if (head) inputs.push(head);
      }
      const answers = await oracle.ask(inputs);
      const retry: { input: Uint8Array; mine: Ours; index: number }[] = [];
      for (let i = 0; i < inputs.length; i++) {
        const input = inputs[i];
        const whole = ours(input, []);
        const pieces = ours(input, randomCuts(input.length, rand));
        const source = text(input);
        // offsets differ when empty lines before the head were dropped in a piece of their own
        if (JSON.stringify({ ...pieces, offset: 0 }) !== JSON.stringify({ ...whole, offset: 0 })) failures.push(`pieces differ from one chunk: ${describe(source)}`);
        if (whole.rest !== "BODY" && !whole.error) failures.push(`bytes after the head lost: ${describe(source)}`);
        if (!whole.error) accepted++;
        const why = disagreement(source, whole, answers[i]);
        if (!why) continue;
        const name = DELIBERATE.map((explain) => explain(source, whole.error, answers[i], why)).find((n) => n);
        if (name === "custom-method") retry.push({ input, mine: whole, index: i });
        else if (name) named.set(name, (named.get(name) ?? 0) + 1);
        else failures.push(`${why}: ${describe(source)}`);
      }
      // a method llhttp does not know: the rest of the head must still agree with the method as POST
      if (retry.length) {
        const swapped = retry.map(({ input, mine }) => {
          const start = text(input).length - text(input).replace(/^[\r\n]*/, "").length;
          return latin1Bytes(text(input.subarray(0, start)) + "POST" + text(input.subarray(start + mine.head.method.length)));
        });
        const again = await oracle.ask(swapped);
        retry.forEach(({ input, mine }, k) => {
          named.set("custom-method", (named.get("custom-method") ?? 0) + 1);
          const answer = { ...again[k], method: again[k].ok ? mine.head.method : again[k].method };
          const source = text(input);
          const why = disagreement(source, mine, answer);
          if (why && !DELIBERATE.slice(1).some((explain) => explain(source, mine.error, answer, why))) failures.push(`${why} (method as POST): ${describe(source)}`);
        });
      }
      cases += inputs.length;
    }
  } finally {
    oracle.close();
  }
  console.log(`request-fuzz: ${cases} cases, ${accepted} accepted, deliberate differences: ${JSON.stringify(Object.fromEntries(named))}`);
  assert.ok(cases >= 250, "ran at least one batch");
  assert.equal(failures, []);
});

test.run();
