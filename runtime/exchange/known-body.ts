// Responses whose whole body is already in memory, and its bytes: dietmesh's HTTP/1.1 client makes
// one when a body arrived with its head, and local replies are small strings. dietmesh's server
// writes such a body straight from the bytes — no stream reader, no await — with the head in the
// same write (measured: the stream machinery was about a tenth of the server's time per request).
const bodies = new WeakMap<object, Uint8Array>();

export function knownBody(response: object): Uint8Array | undefined {
  return bodies.get(response);
}

/** a Response for bytes already complete, whose bytes the server may write directly */
export function responseOfBytes(bytes: Uint8Array, init: ResponseInit): Response {
  const response = new Response(bytes as Uint8Array<ArrayBuffer>, init);
  bodies.set(response, bytes);
  return response;
}
