// How both terminal views word what a message carries besides its text:
// changes, reactions, the message a reply answers. Every text from elsewhere
// goes through inert().
import type { ChatLine, LineReaction } from "../client/chat-client.ts";
import type { Quote } from "./chat-view.ts";
import { inert } from "./format.ts";

/** "bob edited #41: new text", "bob deleted #41", "carol reacted 👍 to #41", "carol removed 👍 from #41". */
export function describeChange(entry: ChatLine): string {
  const change = entry.change;
  const who = inert(entry.username);
  if (!change) return `${who}: ${inert(entry.text)}`;
  const target = `#${change.targetId}`;
  switch (change.kind) {
    case "edit":
      return `${who} edited ${target}: ${inert(entry.text)}`;
    case "delete":
      return `${who} deleted ${target}`;
    case "reaction":
      return change.added
        ? `${who} reacted ${inert(change.emoji)} to ${target}`
        : `${who} removed ${inert(change.emoji)} from ${target}`;
  }
}

/** "[👍 2*] [:tada: 1]": each emoji and its count, "*" where you are one of them. */
export function reactionsText(reactions: readonly LineReaction[] | undefined): string {
  return (reactions ?? [])
    .map((r) => `[${inert(r.emoji)} ${r.count}${r.mine ? "*" : ""}]`)
    .join(" ");
}

/** "↪ alice: the start of what she said", or "↪ reply to #41" while it is not known. */
export function quoteText(line: ChatLine, quote: Quote | undefined): string | undefined {
  const replyTo = line.replyTo ?? 0;
  if (replyTo <= 0) return undefined;
  if (!quote) return `↪ reply to #${replyTo}`;
  return `↪ ${inert(quote.username)}: ${quote.deleted ? "(deleted)" : inert(quote.snippet)}`;
}

export const DELETED_TEXT = "message deleted";
export const EDITED_MARK = "(edited)";
/** After the sender's name of what a webhook or a bot sent: not a person. */
export const BOT_MARK = "[bot]";
