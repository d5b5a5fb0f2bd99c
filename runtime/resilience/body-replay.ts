// Keeps a request body replayable for retries without delaying the first attempt: the body streams
// upstream as it arrives while a copy is kept, up to a limit. Past the limit the copy is dropped
// and the request can no longer be retried (Envoy's per_request_buffer_limit_bytes, which stops
// retries the same way); the retry loop asks replayable() before each retry.
import { keep } from "../platform/read-buffers.ts";

/**
 * 64 KiB: enough for typical JSON and form posts, and small enough that a sidecar with hundreds of
 * requests in flight holds little. Envoy's limit defaults to the listener's buffer, 1 MiB; bigger
 * bodies (uploads) still stream through, they just aren't retried.
 */
export const DEFAULT_REPLAY_LIMIT_BYTES = 64 * 1024;

export interface ReplayableBody {
  /**
   * A stream of the whole body. The first passes data through as it arrives (recording it);
   * later ones replay the recording and then carry on reading the source wherever the earlier
   * attempt stopped, so a retry after a half-sent body still sends all of it. null for no body.
   * Throws once the body is not replayable: check replayable() first.
   */
  stream(): ReadableStream<Uint8Array> | null;
  /** false once more than the limit has passed through, or the client's body failed */
  replayable(): boolean;
}

export function bufferForReplay(
  body: ReadableStream<Uint8Array> | null,
  limitBytes: number = DEFAULT_REPLAY_LIMIT_BYTES,
): ReplayableBody {
  if (body === null) return { stream: () => null, replayable: () => true };
  const reader = body.getReader();
  const chunks: Uint8Array[] = []; // chunks[i] is the source's i-th chunk while under the limit
  let head = 0; // chunks read from the source so far
  let bytes = 0;
  let overLimit = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let pending: Promise<Uint8Array | undefined> | undefined;
  let opened = 0;

  /** the source's next chunk (undefined at its end); concurrent callers share one read */
  function readNext(): Promise<Uint8Array | undefined> {
    pending ??= reader.read().then(
      ({ done, value }) => {
        pending = undefined;
        if (done) {
          ended = true;
          return undefined;
        }
        head++;
        if (!overLimit) {
          bytes += value.byteLength;
          if (bytes > limitBytes) {
            overLimit = true;
            chunks.length = 0; // nothing can replay now; let the memory go at once
          } else {
            keep(value); // replayed later: its read buffer must not be reused once it is written
            chunks.push(value);
          }
        }
        return value;
      },
      (error: unknown) => {
        pending = undefined;
        failure = { error };
        throw error;
      },
    );
    return pending;
  }

  function open(): ReadableStream<Uint8Array> {
    let cursor = 0; // the next chunk this stream hands out
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          for (;;) {
            if (failure !== undefined) return controller.error(failure.error);
            if (cursor < head) {
              // Behind the source: replay from the copy, unless the copy is gone.
              if (overLimit) return controller.error(new RangeError(`request body passed the ${limitBytes}-byte replay limit`));
              controller.enqueue(chunks[cursor++]);
              return;
            }
            if (ended) return controller.close();
            let value: Uint8Array | undefined;
            try {
              value = await readNext();
            } catch (error) {
              return controller.error(error);
            }
            // Over the limit the chunk wasn't kept: hand it straight to whoever read it.
            if (value !== undefined && overLimit && cursor === head - 1) {
              cursor++;
              controller.enqueue(value);
              return;
            }
          }
        },
        cancel(reason) {
          // An attempt was abandoned. A retry may still need the rest of the source, so it is
          // released only when no retry can use it.
          if (overLimit) return reader.cancel(reason);
        },
      },
      // Pull only when the consumer reads: a replay stream must not read ahead of its attempt.
      { highWaterMark: 0 },
    );
  }

  const replayable = () => !overLimit && failure === undefined;
  return {
    stream() {
      if (opened > 0 && !replayable()) throw new TypeError("request body is not replayable");
      opened++;
      return open();
    },
    replayable,
  };
}
