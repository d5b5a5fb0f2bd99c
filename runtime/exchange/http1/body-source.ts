// The underlying source of a streamed response body: a pull resumes the socket the connection
// paused, a cancel drops the connection (its unread rest cannot be skipped cheaply).
export interface BodyOwner {
  resumeBody(): void;
  bodyCancelled(): void;
}

const byteLength = ((chunk: Uint8Array) => chunk.byteLength) as QueuingStrategySize<Uint8Array>;

/** up to 64 KiB waits in the stream before the socket is paused */
export const BODY_STRATEGY: QueuingStrategy<Uint8Array> = { highWaterMark: 64 * 1024, size: byteLength };

export class BodySource implements UnderlyingDefaultSource<Uint8Array> {
  controller!: ReadableStreamDefaultController<Uint8Array>;

  constructor(public owner: BodyOwner | null) {}

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
  }

  pull(): void {
    this.owner?.resumeBody();
  }

  cancel(): void {
    const owner = this.owner;
    this.owner = null;
    owner?.bodyCancelled();
  }
}
