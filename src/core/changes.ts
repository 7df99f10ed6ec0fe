import {
  type AppendResult,
  ChangeTargetError,
  type MessageKind,
  type NewMessage,
  type Store,
} from "../store/store.ts";
import type { AuditLog } from "./audit-log.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import { checkText, type Limits } from "./limits.ts";
import type { RateLimits } from "./rate-limits.ts";
import type { RoomPublisher } from "./room-publisher.ts";
import { type Act, atLeast, type RoomPolicy, type RoomRules } from "./room-rules.ts";
import { checkAccess } from "./rooms.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity, MessageId, RoomId, StoredMessage } from "./types.ts";

export interface ChangesOptions {
  readonly store: Store;
  readonly rates: RateLimits;
  readonly limits: Limits;
  readonly stats: ChatStats;
  readonly clock: Clock;
  readonly ensureRunning: () => void;
  readonly publisher: RoomPublisher;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
}

/** What a change request names: a message of a room. */
export interface ChangeTarget {
  readonly room: RoomId;
  readonly id: MessageId;
}

// One emoji as one grapheme (skin tones, flags and ZWJ sequences included),
// or a short :name: for custom reactions a client draws itself.
const EMOJI = /^\p{RGI_Emoji}$/v;
const REACTION_NAME = /^:[\p{L}\p{N}_+-]{1,32}:$/u;

/** A reaction as the rules allow it: one emoji, or ":name:". */
export function checkReaction(emoji: string): string {
  if (EMOJI.test(emoji) || REACTION_NAME.test(emoji)) return emoji;
  throw new ChatError(
    "invalid_argument",
    'A reaction is one emoji (like 👍) or a short ":name:" of letters, digits, _ + or - (at most 32 between the colons).',
  );
}

/**
 * Changes to messages already sent: edit, delete, react. Each is stored as an
 * entry of the room's log with the room's next id, applied to its target in
 * the same transaction, and delivered like a message, so a cursor carries it
 * live and on resume. Who may change what is decided here, before the store
 * is touched: only a message's author edits it; its author or the room's
 * moderators delete it (a moderator's delete is written to the audit log).
 * A muted user neither edits nor reacts; in a read-only room only
 * moderators edit.
 */
export class Changes {
  readonly #options: ChangesOptions;

  constructor(options: ChangesOptions) {
    this.#options = options;
  }

  async edit(editor: Identity, target: ChangeTarget, text: string): Promise<AppendResult> {
    const { limits, clock } = this.#options;
    const checked = checkText(text, limits);
    return this.#change(editor, target, "edit", checked, "post", (message) => {
      this.#mustOwn(editor, message, "edit");
      const window = limits.editWindowMs;
      if (window > 0 && clock.now() - message.timeMs > window) {
        throw new ChatError(
          "failed_precondition",
          `Message ${message.id} was sent more than ${describeAge(window)} ago; this server allows edits only within ${describeAge(window)} of sending.`,
        );
      }
    });
  }

  /**
   * Deletes a message: its author's, or any as a moderator of the room (to
   * the audit log, unless `withBan`: a ban that erases a user's messages is
   * recorded once, and is not held to the moderator's send rate).
   */
  async delete(
    deleter: Identity,
    target: ChangeTarget,
    options: { readonly reason?: string; readonly withBan?: boolean } = {},
  ): Promise<AppendResult> {
    let moderated: StoredMessage | undefined;
    const result = await this.#change(
      deleter,
      target,
      "delete",
      "",
      undefined,
      (message, policy) => {
        if (message.userId === deleter.userId) return;
        const rank = policy.rankOf(deleter.userId, this.#options.rules.isAdmin(deleter));
        if (!atLeast(rank, "moderator")) this.#mustOwn(deleter, message, "delete");
        moderated = message;
      },
      !options.withBan,
    );
    if (moderated && !result.unchanged && !options.withBan) {
      await this.#options.audit.record(deleter, "delete", moderated.room, {
        target: `message ${moderated.id} by ${moderated.userId}`,
        reason: options.reason ?? "",
        detail: `${moderated.username}'s message erased`,
      });
    }
    return result;
  }

  react(
    reactor: Identity,
    target: ChangeTarget,
    emoji: string,
    remove: boolean,
  ): Promise<AppendResult> {
    const reaction = checkReaction(emoji);
    return this.#change(
      reactor,
      target,
      remove ? "unreact" : "react",
      reaction,
      "react",
      (message) => {
        const reactions = message.reactions ?? [];
        const max = this.#options.limits.maxReactions;
        if (!remove && reactions.length >= max && !reactions.some((r) => r.emoji === reaction)) {
          throw new ChatError(
            "resource_exhausted",
            `Message ${message.id} already has ${max} different reactions; add to one of those instead.`,
          );
        }
      },
    );
  }

  /** Checks that a reply's target can be answered: a chat message of the room, not deleted. */
  async checkReplyTarget(viewer: Identity, room: RoomId, id: MessageId): Promise<void> {
    await this.#options.rules.checkRead(
      viewer,
      checkAccess(viewer.userId, room, this.#options.limits.maxRoomChars),
    );
    const message = await this.#target(viewer, { room, id });
    if (message.deleted) {
      throw new ChatError(
        "failed_precondition",
        `Message ${id} was deleted; it cannot be answered.`,
      );
    }
  }

  async #change(
    author: Identity,
    target: ChangeTarget,
    kind: MessageKind,
    text: string,
    act: Act | undefined,
    allowed: (message: StoredMessage, policy: RoomPolicy) => void,
    metered = true,
  ): Promise<AppendResult> {
    const { ensureRunning, rates, store, publisher, stats, rules } = this.#options;
    try {
      ensureRunning();
      const room = checkAccess(author.userId, target.room, this.#options.limits.maxRoomChars);
      const policy = await (act
        ? rules.checkAct(author, room, act)
        : rules.checkRead(author, room));
      const message = await this.#target(author, target);
      if (message.deleted && kind !== "delete") {
        throw new ChatError("failed_precondition", `Message ${message.id} was deleted.`);
      }
      allowed(message, policy);
      if (metered) await rates.admitSend(author.userId, 1);
      const entry: NewMessage = {
        room: message.room,
        userId: author.userId,
        username: author.username,
        text,
        kind,
        clientMsgId: "",
        refId: message.id,
      };
      const [result] = await store.append([entry]);
      if (!result) throw new ChatError("internal", "The store returned nothing for a change.");
      if (!result.unchanged) {
        stats.messagesStored += 1;
        publisher.publish(message.room, { type: "message", message: result.message });
      }
      return result;
    } catch (error) {
      throw toChatError(error instanceof ChangeTargetError ? targetError(error) : error);
    }
  }

  /** The chat message a change names, as the caller may see it; NOT_FOUND otherwise. */
  async #target(viewer: Identity, target: ChangeTarget): Promise<StoredMessage> {
    const room = checkAccess(viewer.userId, target.room, this.#options.limits.maxRoomChars);
    if (!Number.isSafeInteger(target.id) || target.id <= 0) {
      throw new ChatError("invalid_argument", "Name the message by its id (a number above 0).");
    }
    let message: StoredMessage | undefined;
    try {
      message = await this.#options.store.message(room, target.id, viewer.userId);
    } catch (error) {
      throw toChatError(error);
    }
    if (message?.kind !== "chat") {
      throw new ChatError("not_found", `There is no message ${target.id} in ${room}.`);
    }
    return message;
  }

  #mustOwn(caller: Identity, message: StoredMessage, verb: string): void {
    if (message.userId !== caller.userId) {
      throw new ChatError(
        "permission_denied",
        `Message ${message.id} is ${message.username}'s; you can only ${verb} your own messages.`,
      );
    }
  }
}

function targetError(error: ChangeTargetError): ChatError {
  return error.reason === "missing"
    ? new ChatError("not_found", `There is no message ${error.targetId} in this room.`)
    : new ChatError("failed_precondition", `Message ${error.targetId} was deleted.`);
}

function describeAge(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
