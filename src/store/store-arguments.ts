// Arguments both stores check the same way before any SQL runs.
import type { MessageId, Store } from "./store.ts";

export function checkMarker(lastReadId: MessageId): RangeError | undefined {
  return Number.isSafeInteger(lastReadId) && lastReadId >= 0
    ? undefined
    : new RangeError(`A read marker is a message id (an integer >= 0), not ${lastReadId}.`);
}

export function checkUnreadOptions(
  options: Parameters<Store["unread"]>[2],
): RangeError | undefined {
  return Number.isSafeInteger(options.cap) && options.cap >= 0
    ? undefined
    : new RangeError(`The unread cap must be an integer >= 0, not ${options.cap}.`);
}
