// The page keeps messages as every client does (src/client/chat-line.ts):
// in their current state, a change entry applied by the shared applyChange.
import type { ChatLine, LineChange, LineReaction } from "../../../src/client/chat-line.ts";

export { applyChange, toChatLine as toLine } from "../../../src/client/chat-line.ts";

/** A stored message as the page keeps it. A change never mutates one: it makes a new one, so the view redraws exactly what changed. */
export type Line = ChatLine;
export type Reaction = LineReaction;
/** A log entry that changes an earlier message (EDIT, DELETE, REACTION). */
export type Change = ChatLine & { readonly change: LineChange };

export function isChange(line: Line): line is Change {
  return line.change !== undefined;
}
