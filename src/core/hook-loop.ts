import { createHmac } from "node:crypto";
import type { BotRecord } from "../store/integration-store.ts";
import { mentions } from "../wire/mentions.ts";
import type { DeliveryState, HookResponse, OutgoingHooksOptions } from "./outgoing-hooks.ts";
import type { Identity, RoomId, StoredMessage } from "./types.ts";

const PAGE = 100;
const MAX_RETRY_MS = 60_000;

/** The header a receiver checks: hex HMAC-SHA256, keyed by the signing secret, over "<timestamp>.<body>". */
export function signHook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** Whether `message` fires `bot`'s hook. */
function triggers(bot: BotRecord, message: StoredMessage): boolean {
  const hook = bot.outgoing;
  if (!hook || message.kind !== "chat" || message.userId === bot.userId) return false;
  if (hook.trigger === "all") return true;
  if (hook.trigger === "mentions") return mentions(message.text, bot.username);
  const text = message.text.toLowerCase();
  return hook.words.some((word) => mentions(text, word));
}

export class HookLoop {
  /** What of its bot the loop runs on; a refresh that finds the same leaves it be. */
  readonly version: string;
  /** Settles once the loop has stopped. */
  done: Promise<void> = Promise.resolve();
  readonly #bot: BotRecord;
  readonly #options: OutgoingHooksOptions;
  readonly #state: DeliveryState;
  readonly #rooms: ReadonlySet<RoomId>;
  #running = true;
  #woken = false;
  #wakeUp: (() => void) | undefined;
  #endWait: (() => void) | undefined;

  constructor(
    bot: BotRecord,
    version: string,
    options: OutgoingHooksOptions,
    state: DeliveryState,
  ) {
    this.version = version;
    this.#bot = bot;
    this.#options = options;
    this.#state = state;
    this.#rooms = new Set(bot.rooms);
  }

  /** The rooms whose messages it delivers. */
  get rooms(): ReadonlySet<RoomId> {
    return this.#rooms;
  }

  wake(): void {
    this.#woken = true;
    this.#wakeUp?.();
  }

  stop(): void {
    this.#running = false;
    this.#endWait?.();
  }

  async run(): Promise<void> {
    while (this.#running) {
      this.#woken = false;
      try {
        if (await this.#holdLease()) await this.#deliverAll();
      } catch (error) {
        this.#options.logger?.warn(
          { err: error, bot: this.#bot.username },
          "an outgoing hook could not read its rooms; it tries again shortly",
        );
      }
      if (!this.#woken) await this.#wait(this.#options.pollMs ?? 2_000);
    }
  }

  /** Everything new in each room, in order; returns early when stopped. */
  async #deliverAll(): Promise<void> {
    const { store } = this.#options;
    const cursors = await store.botCursors(this.#bot.userId);
    for (const { room, deliveredId } of cursors) {
      let cursor = deliveredId;
      for (;;) {
        if (!(await this.#holdLease())) return;
        const page = await store.after(room, cursor, PAGE);
        const start = cursor;
        let interrupted = false;
        for (const message of page.messages) {
          interrupted =
            !this.#running || (triggers(this.#bot, message) && !(await this.#deliver(message)));
          if (interrupted) break;
          cursor = message.id;
        }
        if (cursor > start) await store.advanceBotCursor(this.#bot.userId, room, cursor);
        if (interrupted) return;
        if (page.messages.length < PAGE) break;
      }
    }
  }

  /**
   * POSTs one message until the receiver takes it or it is an hour old
   * (true), or until the loop stops or loses its lease (false: the cursor
   * stays before it, for whoever delivers next).
   */
  async #deliver(message: StoredMessage): Promise<boolean> {
    const { clock } = this.#options;
    const hook = this.#bot.outgoing;
    if (!hook) return true;
    const body = JSON.stringify({
      room: message.room,
      id: message.id,
      sender: message.username,
      sender_id: message.userId,
      text: message.text,
      time_ms: message.timeMs,
      time: new Date(message.timeMs).toISOString(),
      bot: this.#bot.username,
    });
    let waitMs = this.#options.firstRetryMs ?? 1_000;
    const giveUpMs = this.#options.giveUpMs ?? 3_600_000;
    while (this.#running) {
      const timestamp = String(Math.floor(clock.now() / 1000));
      const failure = await this.#attempt(
        hook.url,
        body,
        {
          "content-type": "application/json",
          "x-chat-timestamp": timestamp,
          "x-chat-signature": signHook(hook.signingSecret, timestamp, body),
          "x-chat-message-id": `${message.room}/${message.id}`,
        },
        message,
      );
      if (failure === undefined) {
        this.#state.delivered += 1;
        return true;
      }
      this.#state.failed += 1;
      if (clock.now() - message.timeMs >= giveUpMs) {
        await this.#failed(`gave up on ${message.room} #${message.id} after an hour: ${failure}`);
        return true;
      }
      await this.#failed(failure);
      // New messages do not cut a backoff short: they wait behind this one.
      await this.#wait(waitMs, false);
      waitMs = Math.min(waitMs * 2, MAX_RETRY_MS);
      // Another node may have taken the hook over while we waited; it resends this one.
      if (!(await this.#holdLease())) return false;
    }
    return false;
  }

  /** Keeps the failure here and in the store, where its owner reads it from any node. */
  async #failed(error: string): Promise<void> {
    const atMs = this.#options.clock.now();
    this.#state.lastError = error;
    this.#state.lastErrorMs = atMs;
    await this.#options.store
      .setBotError(this.#bot.userId, error, atMs)
      .catch((failure: unknown) => {
        this.#options.logger?.warn(
          { err: failure, bot: this.#bot.username },
          "an outgoing hook's failure could not be stored",
        );
      });
  }

  /** Renews the lease; false (and the loop stops delivering) once another node holds it. */
  async #holdLease(): Promise<boolean> {
    const { store, clock, nodeId } = this.#options;
    const leaseMs = this.#options.leaseMs ?? 15_000;
    return store.leaseBot(this.#bot.userId, nodeId, clock.now(), leaseMs);
  }

  /** undefined when the receiver took it; else why not, in a sentence. */
  async #attempt(
    url: string,
    body: string,
    headers: Record<string, string>,
    message: StoredMessage,
  ): Promise<string | undefined> {
    let response: HookResponse;
    try {
      response = await this.#options.post(url, body, headers);
    } catch (error) {
      return `could not reach ${url}: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (response.status < 200 || response.status > 299) {
      return `${url} answered HTTP ${response.status}`;
    }
    const text = replyText(response);
    if (text !== undefined) {
      const bot: Identity = {
        userId: this.#bot.userId,
        username: this.#bot.username,
        // The hook was sent the message it answers: quoting it reads nothing new.
        botScope: { rooms: this.#rooms, read: true },
      };
      await this.#options
        .reply(bot, message.room, text, message.id)
        .catch((error: unknown) =>
          this.#failed(
            `its reply was refused: ${error instanceof Error ? error.message : String(error)}`,
          ),
        );
    }
    return undefined;
  }

  /** Resolves after `ms`, or as soon as the loop is stopped (or, if `wakeable`, woken). */
  #wait(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const stop = this.#options.clock.every(ms, () => done());
      const done = () => {
        stop();
        this.#wakeUp = undefined;
        this.#endWait = undefined;
        resolve();
      };
      if (wakeable) this.#wakeUp = done;
      this.#endWait = done;
    });
  }
}

/** A JSON answer's `text`, posted back as the bot. */
function replyText(response: HookResponse): string | undefined {
  if (!response.contentType.includes("json") || response.body.trim() === "") return undefined;
  try {
    const parsed: unknown = JSON.parse(response.body);
    if (parsed && typeof parsed === "object" && "text" in parsed) {
      const { text } = parsed as { text: unknown };
      if (typeof text === "string" && text.trim() !== "") return text;
    }
  } catch {
    // Not JSON after all: nothing to post back.
  }
  return undefined;
}
