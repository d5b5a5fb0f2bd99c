// Reads what a TLS client asks for before any TLS is terminated: the server name (SNI, RFC 6066
// §3) and the ALPN protocols (RFC 7301) of its ClientHello. A gateway picks the certificate — and,
// for passthrough, the destination — from them. Only the first handshake record is read, which is
// where every client puts its ClientHello; nothing is decrypted or answered here.

export interface ClientHello {
  /** the host name the client asked for, lower-cased; undefined when it sent none */
  serverName?: string;
  /** the ALPN protocol names offered, in the client's order */
  alpn: string[];
}

/** bytes of the first TLS record needed, or -1 when these bytes do not start a TLS handshake */
export function helloRecordLength(bytes: Uint8Array): number {
  if (bytes.byteLength < 5) return 5;
  if (bytes[0] !== 0x16 || bytes[1] !== 3) return -1;
  return 5 + ((bytes[3] << 8) | bytes[4]);
}

/**
 * The ClientHello in the first record of bytes (at least helloRecordLength(bytes) of them), or a
 * string saying why it is not one. A hello split over several records is refused as malformed:
 * no client does it for a hello that fits one record (16 KiB).
 */
export function parseClientHello(bytes: Uint8Array): ClientHello | string {
  const recordEnd = helloRecordLength(bytes);
  if (recordEnd < 0) return "not a TLS handshake";
  if (bytes.byteLength < recordEnd) return "truncated record";
  let at = 5;
  if (bytes[at] !== 1) return "not a ClientHello";
  const helloEnd = at + 4 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
  if (helloEnd > recordEnd) return "ClientHello longer than its record";
  at += 4 + 2 + 32; // handshake header, client_version, random
  if (at >= helloEnd) return "truncated ClientHello";
  at += 1 + bytes[at]; // session_id
  if (at + 2 > helloEnd) return "truncated ClientHello";
  at += 2 + ((bytes[at] << 8) | bytes[at + 1]); // cipher_suites
  if (at + 1 > helloEnd) return "truncated ClientHello";
  at += 1 + bytes[at]; // compression_methods
  const hello: ClientHello = { alpn: [] };
  if (at === helloEnd) return hello; // no extensions
  if (at + 2 > helloEnd) return "truncated extensions";
  const extensionsEnd = at + 2 + ((bytes[at] << 8) | bytes[at + 1]);
  if (extensionsEnd > helloEnd) return "extensions longer than the ClientHello";
  at += 2;
  while (at < extensionsEnd) {
    if (at + 4 > extensionsEnd) return "truncated extension";
    const type = (bytes[at] << 8) | bytes[at + 1];
    const end = at + 4 + ((bytes[at + 2] << 8) | bytes[at + 3]);
    if (end > extensionsEnd) return "extension longer than the extensions";
    const body = at + 4;
    if (type === 0) {
      const name = serverNameOf(bytes, body, end);
      if (typeof name !== "string" || name.startsWith("!")) return name ? name.slice(1) : "malformed server_name";
      hello.serverName = name || undefined;
    } else if (type === 16) {
      const protocols = alpnOf(bytes, body, end);
      if (!protocols) return "malformed ALPN";
      hello.alpn = protocols;
    }
    at = end;
  }
  return hello;
}

/** the host_name entry of a server_name extension ("" when none; "!reason" when malformed) */
function serverNameOf(bytes: Uint8Array, at: number, end: number): string {
  if (at + 2 > end) return "!malformed server_name";
  const listEnd = at + 2 + ((bytes[at] << 8) | bytes[at + 1]);
  if (listEnd !== end) return "!malformed server_name";
  at += 2;
  while (at < listEnd) {
    if (at + 3 > listEnd) return "!malformed server_name";
    const kind = bytes[at];
    const nameEnd = at + 3 + ((bytes[at + 1] << 8) | bytes[at + 2]);
    if (nameEnd > listEnd) return "!malformed server_name";
    if (kind === 0) {
      let name = "";
      for (let i = at + 3; i < nameEnd; i++) {
        const c = bytes[i];
        // a DNS name: letters, digits, "-", "." (and "_", which some internal names use)
        if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f)) return "!server name is not a host name";
        name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
      }
      if (!name) return "!empty server name";
      return name;
    }
    at = nameEnd;
  }
  return "";
}

function alpnOf(bytes: Uint8Array, at: number, end: number): string[] | undefined {
  if (at + 2 > end) return undefined;
  const listEnd = at + 2 + ((bytes[at] << 8) | bytes[at + 1]);
  if (listEnd !== end) return undefined;
  at += 2;
  const out: string[] = [];
  while (at < listEnd) {
    const length = bytes[at];
    if (length === 0 || at + 1 + length > listEnd) return undefined;
    let name = "";
    for (let i = at + 1; i <= at + length; i++) name += String.fromCharCode(bytes[i]);
    out.push(name);
    at += 1 + length;
  }
  return out;
}
