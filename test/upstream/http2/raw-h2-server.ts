// A raw HTTP/2 server on loopback for tests: after the client's preface it answers each request
// stream with frames the test chose, written as bytes — so it can send what no HTTP/2 library
// would (a missing or repeated pseudo-header, a header block HPACK cannot decode, a content-length
// the DATA contradicts). Header blocks use HPACK literals without indexing, no Huffman.
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

export function frame(type: number, flags: number, stream: number, payload: readonly number[] | Uint8Array = []): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = (payload.length >> 16) & 255;
  out[1] = (payload.length >> 8) & 255;
  out[2] = payload.length & 255;
  out[3] = type;
  out[4] = flags;
  out[5] = (stream >>> 24) & 127;
  out[6] = (stream >> 16) & 255;
  out[7] = (stream >> 8) & 255;
  out[8] = stream & 255;
  out.set(payload, 9);
  return out;
}

export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;
/** HPACK: ":status: 200" from the static table */
export const STATUS_200 = 0x88;

/** HPACK literal header field without indexing, new name (RFC 7541 §6.2.2), lengths under 127 */
export function literal(name: string, value: string): number[] {
  const n = [...new TextEncoder().encode(name)];
  const v = [...new TextEncoder().encode(value)];
  return [0x00, n.length, ...n, v.length, ...v];
}

export interface RawH2Server {
  port: number;
  /** requests seen, by :path-less stream id order */
  requests: number;
  close(): Promise<void>;
}

/** answer(streamId, requestNumber) gives the frames sent for each request's HEADERS */
export async function rawH2Server(answer: (stream: number, request: number) => Uint8Array[]): Promise<RawH2Server> {
  const sockets = new Set<Socket>();
  const state: RawH2Server = { port: 0, requests: 0, close };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(frame(0x4, 0, 0)); // our SETTINGS: defaults
    let buffered = new Uint8Array(0);
    let prefaceRead = false;
    socket.on("data", (chunk: Uint8Array) => {
      const merged = new Uint8Array(buffered.length + chunk.length);
      merged.set(buffered);
      merged.set(chunk, buffered.length);
      let at = 0;
      if (!prefaceRead) {
        if (merged.length < 24) return void (buffered = merged);
        prefaceRead = true;
        at = 24;
      }
      while (merged.length - at >= 9) {
        const length = (merged[at] << 16) | (merged[at + 1] << 8) | merged[at + 2];
        if (merged.length - at < 9 + length) break;
        const type = merged[at + 3];
        const flags = merged[at + 4];
        const id = ((merged[at + 5] & 127) << 24) | (merged[at + 6] << 16) | (merged[at + 7] << 8) | merged[at + 8];
        if (type === 0x4 && !(flags & 1)) socket.write(frame(0x4, 1, 0)); // SETTINGS ACK
        if (type === HEADERS) for (const f of answer(id, ++state.requests)) socket.write(f);
        at += 9 + length;
      }
      buffered = merged.slice(at);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.port = (server.address() as AddressInfo).port;
  function close(): Promise<void> {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }
  return state;
}
