import type { Readable } from "node:stream";
import { UndecodableRequest } from "./undecodable.ts";

/** Messages read ahead of the one being handled before the stream is paused. */
const READ_AHEAD = 32;

/**
 * Runs `handle` on each message a client streams, one at a time and in
 * order. Up to READ_AHEAD messages wait their turn; past that the stream is
 * paused, so a fast sender is held back by flow control rather than buffered
 * here without bound. Resolves when the client half-closes (after the last
 * message is handled) or the call goes away; rejects with the first error
 * `handle` throws, after which no more messages are handled. A message that
 * could not be decoded (an UndecodableRequest) is such an error, in its
 * turn: INVALID_ARGUMENT, after the messages before it are handled.
 *
 * Not `for await`: its iterator destroys the call on an error, and a
 * destroyed call can no longer send the status that says what went wrong.
 * Not a pause per message either: resuming a grpc-js call costs a round of
 * scheduling, which capped a pipelining sender at a few thousand messages/s.
 */
export function eachMessage<T>(
  call: Readable,
  handle: (message: T) => Promise<void> | void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let waiting = 0;
    let turn: Promise<void> = Promise.resolve();

    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      call.off("data", onData);
      call.off("end", onEnd);
      call.off("close", onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onData = (message: T | UndecodableRequest) => {
      waiting += 1;
      if (waiting > READ_AHEAD) call.pause();
      turn = turn.then(async () => {
        if (settled) return;
        try {
          if (message instanceof UndecodableRequest) throw message.toChatError();
          await handle(message);
        } catch (error) {
          settle(error);
          return;
        }
        waiting -= 1;
        if (waiting <= READ_AHEAD / 2 && call.isPaused()) call.resume();
      });
    };
    const onEnd = () => {
      turn = turn.then(() => settle());
    };
    const onClose = () => settle();
    call.on("data", onData);
    call.once("end", onEnd);
    call.once("close", onClose);
  });
}
