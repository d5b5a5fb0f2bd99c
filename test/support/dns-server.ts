// A tiny authoritative DNS server on loopback UDP for tests: answers A and AAAA questions from a
// table the test sets (and changes) with chosen TTLs, NXDOMAIN for names it does not know, and
// SERVFAIL while told to fail. It counts questions per name so a test can wait for a re-resolution.
import { createSocket } from "node:dgram";

export interface DnsRecord {
  address: string;
  ttl: number;
}

export interface DnsServer {
  /** "127.0.0.1:PORT", what --dns-server takes */
  address: string;
  /** replaces the answers for a name (lower case, no trailing dot) */
  set(name: string, records: { a?: DnsRecord[]; aaaa?: DnsRecord[] }): void;
  /** while true, every question gets SERVFAIL */
  failing: boolean;
  /** questions asked so far for the name (any type) */
  queries(name: string): number;
  /** resolves once the name has been asked about more than `count` times */
  waitForQuery(name: string, count: number): Promise<void>;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

export async function startDnsServer(): Promise<DnsServer> {
  const table = new Map<string, { a?: DnsRecord[]; aaaa?: DnsRecord[] }>();
  const counts = new Map<string, number>();
  const waiters: { name: string; count: number; resolve: () => void }[] = [];
  const socket = createSocket("udp4");
  const server: DnsServer = {
    address: "",
    failing: false,
    set: (name, records) => void table.set(name.toLowerCase(), records),
    queries: (name) => counts.get(name) ?? 0,
    waitForQuery(name, count) {
      if (server.queries(name) > count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ name, count, resolve }));
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
  socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
    const question = parseQuestion(msg);
    if (!question) return;
    counts.set(question.name, (counts.get(question.name) ?? 0) + 1);
    const entry = table.get(question.name);
    const records = question.type === TYPE_A ? entry?.a : question.type === TYPE_AAAA ? entry?.aaaa : undefined;
    const rcode = server.failing ? 2 : entry ? 0 : 3;
    socket.send(answer(msg, question.end, question.type, rcode === 0 ? (records ?? []) : []), rinfo.port, rinfo.address);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (server.queries(w.name) > w.count) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
    function answer(query: Uint8Array, end: number, type: number, list: DnsRecord[]): Uint8Array {
      const rdata = list.map((r) => (type === TYPE_A ? ipv4(r.address) : ipv6(r.address)));
      const size = end + list.reduce((n, _r, i) => n + 12 + rdata[i].length, 0);
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      out.set(query.subarray(0, end));
      view.setUint16(2, 0x8180 | 0x0400 | rcode); // response, recursion desired+available, authoritative
      view.setUint16(4, 1);
      view.setUint16(6, list.length);
      view.setUint16(8, 0);
      view.setUint16(10, 0);
      let at = end;
      list.forEach((r, i) => {
        view.setUint16(at, 0xc00c); // the name: a pointer to the question's
        view.setUint16(at + 2, type);
        view.setUint16(at + 4, 1);
        view.setUint32(at + 6, r.ttl);
        view.setUint16(at + 10, rdata[i].length);
        out.set(rdata[i], at + 12);
        at += 12 + rdata[i].length;
      });
      return out;
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  server.address = `127.0.0.1:${socket.address().port}`;
  return server;
}

function parseQuestion(msg: Uint8Array): { name: string; type: number; end: number } | undefined {
  if (msg.length < 17) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at];
    labels.push(new TextDecoder().decode(msg.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return undefined;
  const type = (msg[at + 1] << 8) | msg[at + 2];
  return { name: labels.join(".").toLowerCase(), type, end: at + 5 };
}

function ipv4(address: string): Uint8Array {
  return Uint8Array.from(address.split(".").map(Number));
}

function ipv6(address: string): Uint8Array {
  const [head, tail = ""] = address.split("::");
  const parts = (s: string) => (s ? s.split(":").map((p) => parseInt(p, 16)) : []);
  const h = parts(head);
  const t = address.includes("::") ? parts(tail) : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}
