import type { Writable } from "node:stream";
import { type ServiceError, status } from "@grpc/grpc-js";
import type { Subscriber } from "../core/chat.ts";
import type { Encoder, Envelope } from "../core/envelope.ts";

/** A grpc-js server call we can write to: server-streaming or bidirectional. */
export type WritableCall = Writable & { readonly cancelled: boolean };

export interface StreamSubscriberOptions {
  readonly call: WritableCall;
  readonly encoder: Encoder;
  /**
   * Most items held for a stream whose reader is not keeping up. Past it the
   * stream ends with RESOURCE_EXHAUSTED so the reader comes back through
   * resume, instead of slowing everyone else or growing without bound.
   */
  readonly maxQueued: number;
  /** Called once when the server ends the stream (cut off, or shutdown). */
  readonly onEnd: () => void;
}

export interface StreamSubscriber extends Subscriber {
  /** Queues bytes meant for this stream alone (a welcome, an ack). */
  write(bytes: Uint8Array): void;
  /** Ends the stream with a status, after anything already queued. */
  end(error?: Partial<ServiceError>): void;
  readonly ended: boolean;
}

/**
 * Writes encoded items to one stream, honouring its backpressure: while the
 * stream's buffer is full, items wait in a bounded queue. Nothing here ever
 * waits, so one slow reader cannot hold up the fan-out.
 */
export function createStreamSubscriber(options: StreamSubscriberOptions): StreamSubscriber {
  const { call, encoder, maxQueued } = options;
  let queue: Uint8Array[] = [];
  let head = 0;
  let waitingForDrain = false;
  let ended = false;
  // Set when end() was asked for while items still wait for the reader.
  let endWhenFlushed: { error?: Partial<ServiceError> } | undefined;

  const finish = (error?: Partial<ServiceError>) => {
    if (ended) return;
    ended = true;
    queue = [];
    head = 0;
    call.off("drain", flush);
    if (!call.cancelled && !call.writableEnded) {
      if (error) call.emit("error", error);
      else call.end();
    }
    options.onEnd();
  };

  function flush(): void {
    waitingForDrain = false;
    while (head < queue.length) {
      const bytes = queue[head] as Uint8Array;
      head += 1;
      if (!call.write(bytes)) {
        // A reader that drains a little at a time never empties the queue;
        // drop the written prefix so the array does not keep growing.
        if (head >= maxQueued) {
          queue = queue.slice(head);
          head = 0;
        }
        waitingForDrain = true;
        call.once("drain", flush);
        return;
      }
    }
    queue = [];
    head = 0;
    if (endWhenFlushed) finish(endWhenFlushed.error);
  }

  const push = (bytes: Uint8Array) => {
    if (ended || call.cancelled) return;
    if (waitingForDrain) {
      if (queue.length - head >= maxQueued) {
        finish({
          code: status.RESOURCE_EXHAUSTED,
          details: `You fell more than ${maxQueued} messages behind, so the server stopped this stream; reconnect to catch up.`,
        });
        return;
      }
      queue.push(bytes);
      return;
    }
    if (!call.write(bytes)) {
      waitingForDrain = true;
      call.once("drain", flush);
    }
  };

  return {
    get ended() {
      return ended;
    },
    write: push,
    deliver(envelope: Envelope) {
      const bytes = envelope.encode(encoder);
      if (bytes) push(bytes);
    },
    shutdown(notice: Envelope) {
      const bytes = notice.encode(encoder);
      if (bytes) push(bytes);
      this.end({
        code: status.UNAVAILABLE,
        details: "The server is shutting down; reconnect shortly.",
      });
    },
    end(error?: Partial<ServiceError>) {
      if (ended) return;
      if (waitingForDrain) endWhenFlushed = error ? { error } : {};
      else finish(error);
    },
  };
}
