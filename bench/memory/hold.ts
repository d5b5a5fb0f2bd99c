// Holds N idle keep-alive connections open to a proxy, for measuring what per-connection state
// costs. Each connection sends one small GET and waits for its response, then stays open and quiet.
// Prints "held N" once every response has arrived, then waits to be killed.
// Usage: bun bench/memory/hold.ts HOST:PORT N HOST-HEADER [CERT-DIR]   (CERT-DIR: mTLS with
// cert-chain.pem / key.pem from `dietmesh ca issue`, the server's certificate not checked)
import { readFileSync } from "node:fs";

const [target, count, hostHeader, certDir] = process.argv.slice(2);
const [hostname, port] = target.split(":");
const n = Number(count);
const tls = certDir ? { cert: readFileSync(`${certDir}/cert-chain.pem`, "utf8"), key: readFileSync(`${certDir}/key.pem`, "utf8"), rejectUnauthorized: false } : undefined;
const request = `GET / HTTP/1.1\r\nHost: ${hostHeader}\r\n\r\n`;
const sockets: unknown[] = [];
let answered = 0;

// open in batches so a 500-connection run does not look like a SYN flood to the listener's backlog
for (let i = 0; i < n; i += 50) {
  const batch = Math.min(50, n - i);
  await Promise.all(Array.from({ length: batch }, () => new Promise<void>((resolve, reject) => {
    let seen = "";
    Bun.connect({
      hostname, port: Number(port), tls,
      socket: {
        open(s) { s.write(request); sockets.push(s); },
        data(_s, chunk) { seen += chunk.toString("latin1"); if (seen.includes("\r\n\r\n") && !seen.startsWith("done")) { answered++; seen = "done"; resolve(); } },
        close() { if (seen !== "done") reject(new Error("closed before a response")); },
        error(_s, e) { reject(e); },
        connectError(_s, e) { reject(e); },
      },
    }).catch(reject);
  })));
}
console.log(`held ${answered}`);
setInterval(() => {}, 1 << 30);
