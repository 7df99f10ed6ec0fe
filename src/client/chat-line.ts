// What every client shows of a message, free of any transport: the terminal
// client and the SDK use it over grpc-js, the web client over connect-web.
import { type Message, MessageKind } from "../gen/chat_pb.js";

/** One emoji's reactions on a message, as the reader sees them. */
export interface LineReaction {
  readonly emoji: string;
  readonly count: number;
  /** The reader is one of them. */
  readonly mine: boolean;
}

/**
 * What a change entry does to the message `targetId` of its room. The entry
 * is a log entry of its own (with its own id, which advances the room's
 * resume point like any message), not a message to show as one.
 */
export type LineChange =
  /** The target's text is now the entry's text. */
  | { readonly kind: "edit"; readonly targetId: number }
  | { readonly kind: "delete"; readonly targetId: number }
  /** The entry's user added or removed `emoji`; `count` users have it now. */
  | {
      readonly kind: "reaction";
      readonly targetId: number;
      readonly emoji: string;
      readonly added: boolean;
      readonly count: number;
    };

/** A message as clients show it. */
export interface ChatLine {
  readonly room: string;
  readonly id: number;
  /** Server time, ms since the Unix epoch. */
  readonly timeMs: number;
  readonly userId: string;
  readonly username: string;
  readonly text: string;
  readonly system: boolean;
  /** The sender's idempotency key ("" when none). */
  readonly clientMsgId: string;
  /** The id of the message this one answers (absent or 0: none). */
  readonly replyTo?: number;
  /** When its text was last edited (absent or 0: never). */
  readonly editedAtMs?: number;
  /** Deleted: a tombstone, its text "". */
  readonly deleted?: boolean;
  /** Its reactions, one per emoji in the order each was first added. */
  readonly reactions?: readonly LineReaction[];
  /** Set on a change entry: it changes an earlier message instead of saying something. */
  readonly change?: LineChange;
  /** Sent by a webhook or a bot, not a person. */
  readonly bot?: boolean;
}

function changeOf(message: Message): LineChange | undefined {
  const targetId = Number(message.targetId);
  switch (message.kind) {
    case MessageKind.EDIT:
      return { kind: "edit", targetId };
    case MessageKind.DELETE:
      return { kind: "delete", targetId };
    case MessageKind.REACTION:
      return {
        kind: "reaction",
        targetId,
        emoji: message.reaction?.emoji ?? "",
        added: message.reaction?.added ?? false,
        count: message.reaction?.count ?? 0,
      };
    default:
      return undefined;
  }
}

export function toChatLine(message: Message): ChatLine {
  const change = changeOf(message);
  return {
    room: message.room,
    id: Number(message.id),
    timeMs: Number(message.serverTimeMs),
    userId: message.userId,
    username: message.username,
    text: message.text,
    system: message.kind === MessageKind.SYSTEM,
    clientMsgId: message.clientMsgId,
    replyTo: Number(message.replyTo),
    editedAtMs: Number(message.editedAtMs),
    deleted: message.deleted,
    reactions: message.reactions.map(({ emoji, count, mine }) => ({ emoji, count, mine })),
    ...(change === undefined ? {} : { change }),
    ...(message.bot ? { bot: true } : {}),
  };
}

/**
 * `target` with the change entry `entry` applied (`selfId`: the reader's
 * public id, which decides `mine`). Idempotent, so an entry delivered again
 * or already reflected in a History page changes nothing more: an edit sets
 * the text, a delete makes a tombstone, a reaction sets its emoji's count
 * to the count the entry carries.
 */
export function applyChange(target: ChatLine, entry: ChatLine, selfId: string): ChatLine {
  const change = entry.change;
  if (change === undefined || change.targetId !== target.id || target.room !== entry.room) {
    return target;
  }
  switch (change.kind) {
    case "edit":
      if (target.deleted) return target;
      return { ...target, text: entry.text, editedAtMs: entry.editedAtMs || entry.timeMs };
    case "delete":
      return { ...target, text: "", deleted: true, reactions: [] };
    case "reaction": {
      if (target.deleted) return target;
      const reactions = [...(target.reactions ?? [])];
      const index = reactions.findIndex((r) => r.emoji === change.emoji);
      const before = reactions[index];
      const mine = entry.userId === selfId ? change.added : (before?.mine ?? false);
      const after = { emoji: change.emoji, count: change.count, mine };
      if (change.count <= 0) {
        if (index >= 0) reactions.splice(index, 1);
      } else if (index >= 0) reactions[index] = after;
      else reactions.push(after);
      return { ...target, reactions };
    }
  }
}

// The server counts mentions for ListRooms by the same rule.
export { mentions } from "../wire/mentions.ts";
