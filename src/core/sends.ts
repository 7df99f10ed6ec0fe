import type { AppendResult, Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { SendInput } from "./chat-stream.ts";
import { checkClientMsgId, checkText, type Limits } from "./limits.ts";
import type { Outlet } from "./outlet.ts";
import type { RateLimits } from "./rate-limits.ts";
import type { RoomPublisher } from "./room-publisher.ts";
import type { RoomRules } from "./room-rules.ts";
import { checkAccess } from "./rooms.ts";
import type { SendPacer } from "./send-pacer.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity, NewMessage, RoomId, StoredMessage } from "./types.ts";

export interface SendsOptions {
  readonly store: Store;
  readonly rates: RateLimits;
  readonly limits: Limits;
  readonly stats: ChatStats;
  /** Throws UNAVAILABLE once the node is shutting down. */
  readonly ensureRunning: () => void;
  /** Delivers a newly stored message everywhere. */
  readonly publisher: RoomPublisher;
  /** Who may post where: a muted user, or a member of a read-only room, may not. */
  readonly rules: RoomRules;
  /** Throws unless the message `replyTo` of the room can be answered by `sender`. */
  readonly checkReply: (sender: Identity, room: RoomId, replyTo: number) => Promise<void>;
  /** Told of each message stored by this node (one node per message, so one email). */
  readonly stored?: (message: StoredMessage) => void;
}

/**
 * The way in for a user's messages: checked against the rules and the send
 * rate, stored once (a repeated client id answers with the first copy and is
 * not delivered again), then delivered. Every refusal is counted by its code.
 * A send over the rate is refused, unless it comes from a paced stream: then
 * it waits for its turn.
 */
export class Sends {
  readonly #options: SendsOptions;

  constructor(options: SendsOptions) {
    this.#options = options;
  }

  /**
   * Stores one message and delivers it; `origin`, the sending stream, gets no
   * copy (it is given an ack). With `pacer` (a paced stream's) a send over the
   * rate waits for its turn instead of being refused.
   */
  async send(
    sender: Identity,
    input: SendInput,
    origin?: Outlet,
    pacer?: SendPacer,
    address?: string,
  ): Promise<AppendResult> {
    try {
      const { ensureRunning, rates } = this.#options;
      ensureRunning();
      const message = this.#newChatMessage(sender, input);
      await this.#options.rules.checkAct(sender, message.room, "post");
      if (message.refId) await this.#options.checkReply(sender, message.room, message.refId);
      let appended: Promise<AppendResult[]>;
      // With no rate to wait for, every send takes the same steps, so they keep their order anyway.
      if (pacer && rates.sendRateLimited) {
        appended = pacer.turn(
          () => rates.waitToSend(sender.userId, ensureRunning, address),
          () => this.#append([message]),
        );
      } else {
        await rates.admitSend(sender.userId, 1, address);
        appended = this.#append([message]);
      }
      const [result] = await appended;
      if (!result) throw new ChatError("internal", "The store returned nothing for a message.");
      if (!result.duplicate) this.#publish(result.message, origin);
      return result;
    } catch (error) {
      throw this.#refused(error);
    }
  }

  /**
   * Stores and delivers a message from a webhook (`sender` is the hook). Its
   * room's moderators made it, so it is not held to the room's rules or a
   * user's send rate (Webhooks keeps a rate per hook).
   */
  async sendFromHook(sender: Identity, input: SendInput): Promise<AppendResult> {
    try {
      this.#options.ensureRunning();
      const [result] = await this.#append([this.#newChatMessage(sender, input)]);
      if (!result) throw new ChatError("internal", "The store returned nothing for a message.");
      if (!result.duplicate) this.#publish(result.message);
      return result;
    } catch (error) {
      throw this.#refused(error);
    }
  }

  async sendBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
    address?: string,
  ): Promise<StoredMessage[]> {
    try {
      return await this.#storeBatch(sender, roomId, texts, address);
    } catch (error) {
      throw this.#refused(error);
    }
  }

  async #storeBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
    address: string | undefined,
  ): Promise<StoredMessage[]> {
    this.#options.ensureRunning();
    const { maxBatch } = this.#options.limits;
    if (texts.length > maxBatch) {
      throw new ChatError(
        "invalid_argument",
        `A batch holds at most ${maxBatch} messages; this one has ${texts.length}.`,
      );
    }
    const messages = texts.map((text, index) => {
      try {
        return this.#newChatMessage(sender, { room: roomId, text });
      } catch (error) {
        if (error instanceof ChatError) {
          throw new ChatError(error.code, `Message ${index + 1} of the batch: ${error.message}`);
        }
        throw error;
      }
    });
    await this.#options.rules.checkAct(
      sender,
      checkAccess(sender.userId, roomId, this.#options.limits.maxRoomChars),
      "post",
    );
    await this.#options.rates.admitSend(sender.userId, messages.length, address);
    const results = await this.#append(messages);
    for (const { message } of results) this.#publish(message);
    return results.map((r) => r.message);
  }

  #refused(error: unknown): ChatError {
    const chatError = toChatError(error);
    this.#options.stats.sendRejected(chatError.code);
    return chatError;
  }

  #newChatMessage(sender: Identity, input: SendInput): NewMessage {
    const { limits } = this.#options;
    return {
      room: checkAccess(sender.userId, input.room, limits.maxRoomChars),
      userId: sender.userId,
      username: sender.username,
      text: checkText(input.text, limits),
      kind: "chat",
      clientMsgId: checkClientMsgId(input.clientMsgId ?? ""),
      ...(input.replyTo ? { refId: input.replyTo } : {}),
    };
  }

  async #append(messages: NewMessage[]): Promise<AppendResult[]> {
    try {
      return await this.#options.store.append(messages);
    } catch (error) {
      throw toChatError(error);
    }
  }

  #publish(message: StoredMessage, origin?: Outlet): void {
    this.#options.stats.messagesStored += 1;
    this.#options.publisher.publish(message.room, { type: "message", message }, origin);
    this.#options.stored?.(message);
  }
}
