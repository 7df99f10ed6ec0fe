import type { Readable } from "node:stream";

/**
 * Runs `handle` on each message a client streams, one at a time and in
 * order; the stream is paused while a message is handled, so a fast sender
 * is held back by flow control rather than buffered here. Resolves when the
 * client half-closes or the call goes away; rejects with the first error
 * `handle` throws, after which no more messages are handled.
 *
 * Not `for await`: its iterator destroys the call on an error, and a
 * destroyed call can no longer send the status that says what went wrong.
 */
export function eachMessage<T>(
  call: Readable,
  handle: (message: T) => Promise<void> | void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      call.off("data", onData);
      call.off("end", onEnd);
      call.off("close", onEnd);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onEnd = () => settle();
    const onData = async (message: T) => {
      call.pause();
      try {
        await handle(message);
        if (!settled) call.resume();
      } catch (error) {
        settle(error);
      }
    };
    call.on("data", onData);
    call.once("end", onEnd);
    call.once("close", onEnd);
  });
}
