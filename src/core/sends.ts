import type { AppendResult, Store } from "../store/store.ts";
import { ChatError, toChatError } from "./chat-error.ts";
import type { SendInput } from "./chat-stream.ts";
import { checkClientMsgId, checkText, type Limits } from "./limits.ts";
import type { Outlet } from "./outlet.ts";
import { checkAccess } from "./rooms.ts";
import type { ChatStats } from "./stats.ts";
import type { Identity, NewMessage, RoomId, StoredMessage } from "./types.ts";
import type { Users } from "./users.ts";

export interface SendsOptions {
  readonly store: Store;
  readonly users: Users;
  readonly limits: Limits;
  readonly stats: ChatStats;
  /** Throws UNAVAILABLE once the node is shutting down. */
  readonly ensureRunning: () => void;
  /** Delivers a newly stored message everywhere; `origin` has its ack instead. */
  readonly publish: (message: StoredMessage, origin?: Outlet) => void;
}

/**
 * The way in for a user's messages: checked against the rules and the send
 * rate, stored once (a repeated client id answers with the first copy and is
 * not delivered again), then delivered. Every refusal is counted by its code.
 */
export class Sends {
  readonly #options: SendsOptions;

  constructor(options: SendsOptions) {
    this.#options = options;
  }

  async send(sender: Identity, input: SendInput, origin?: Outlet): Promise<AppendResult> {
    try {
      this.#options.ensureRunning();
      const message = this.#newChatMessage(sender, input);
      if (input.admitted !== true) await this.#options.users.admitSend(sender.userId, 1);
      const [result] = await this.#append([message]);
      if (!result) throw new ChatError("internal", "The store returned nothing for a message.");
      if (!result.duplicate) this.#publish(result.message, origin);
      return result;
    } catch (error) {
      throw this.#refused(error);
    }
  }

  async sendBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
  ): Promise<StoredMessage[]> {
    try {
      return await this.#storeBatch(sender, roomId, texts);
    } catch (error) {
      throw this.#refused(error);
    }
  }

  async waitToSend(sender: Identity): Promise<void> {
    await this.#options.users.waitToSend(sender.userId, this.#options.ensureRunning);
  }

  async #storeBatch(
    sender: Identity,
    roomId: RoomId,
    texts: readonly string[],
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
    await this.#options.users.admitSend(sender.userId, messages.length);
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
    this.#options.publish(message, origin);
  }
}
