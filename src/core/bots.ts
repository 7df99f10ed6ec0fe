import { randomBytes } from "node:crypto";
import type { BotRecord, BotTrigger, OutgoingHook } from "../store/integration-store.ts";
import type { Store } from "../store/store.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import { hashToken } from "./accounts.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { Identities } from "./identities.ts";
import { checkUsername, nameKey } from "./names.ts";
import { nameInUse } from "./online-names.ts";
import type { RoomRules } from "./room-rules.ts";
import { checkAccess } from "./rooms.ts";
import type { Identity, RoomId } from "./types.ts";

/** Bots' user ids; no person's has this form (accounts are a-…, guests g-…). */
export const BOT_ID_PREFIX = "b-";
/** A bot's tokens start so, to be told from an account's without a second lookup. */
const BOT_TOKEN_PREFIX = "bot_";
/** What no password hashes to: a bot cannot log in, only use its token. */
const NO_PASSWORD = "bot";
const MAX_ROOMS = 20;
const MAX_WORDS = 20;
const MAX_URL_CHARS = 2_000;

export function isBotToken(token: string): boolean {
  return token.startsWith(BOT_TOKEN_PREFIX);
}

/** What CreateBot asks for. */
export interface NewBot {
  readonly name: string;
  readonly rooms: readonly string[];
  readonly read: boolean;
  /** "" for none. */
  readonly outgoingUrl: string;
  readonly trigger: BotTrigger;
  readonly words: readonly string[];
}

export interface BotsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly identities: Identities;
  readonly maxNameChars: number;
  readonly maxRoomChars: number;
  /** The bot's outgoing hook may have changed: deliveries start or stop. */
  readonly changed: (bot: BotRecord) => void;
  /** Ends the user's live streams on every node, saying why. */
  readonly endStreams: (userId: string, reason: string) => void;
}

/**
 * Bots: accounts of their own that a user makes, whose token may post in
 * (and, if allowed, read) only the rooms its owner chose. The token, and an
 * outgoing hook's signing secret, are shown once.
 */
export class Bots {
  readonly #options: BotsOptions;

  constructor(options: BotsOptions) {
    this.#options = options;
  }

  async create(
    owner: Identity,
    input: NewBot,
  ): Promise<{ bot: BotRecord; token: string; signingSecret: string }> {
    const { store, clock, identities } = this.#options;
    if (owner.botScope) throw new ChatError("permission_denied", "A bot cannot make bots.");
    const name = checkUsername(input.name, this.#options.maxNameChars);
    const rooms = await this.#checkRooms(owner, input.rooms);
    const outgoing = checkOutgoing(input);
    if (identities.online.holder(name)) throw nameInUse(name);
    const token = `${BOT_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
    const nowMs = clock.now();
    const bot: BotRecord = {
      userId: `${BOT_ID_PREFIX}${randomBytes(12).toString("base64url")}`,
      username: name,
      ownerId: owner.userId,
      rooms,
      canRead: input.read,
      tokenHash: hashToken(token),
      createdMs: nowMs,
      revokedMs: 0,
      lastError: "",
      lastErrorMs: 0,
      outgoing,
    };
    // Deliveries start after what the rooms hold now: a new bot is not sent the past.
    const cursors = await Promise.all(
      rooms.map(async (room) => ({ room, deliveredId: await asChatError(store.lastId(room)) })),
    );
    const account = {
      userId: bot.userId,
      username: name,
      nameKey: nameKey(name),
      passwordHash: NO_PASSWORD,
      createdMs: nowMs,
    };
    if (!(await asChatError(store.createBot(account, bot, cursors)))) {
      throw new ChatError(
        "already_exists",
        `The name "${name}" (or one that looks the same) is already taken; pick another for the bot.`,
      );
    }
    this.#options.changed(bot);
    return { bot, token, signingSecret: outgoing?.signingSecret ?? "" };
  }

  /** The caller's bots; an admin's are every bot. */
  async list(by: Identity): Promise<BotRecord[]> {
    const admin = this.#options.rules.isAdmin(by);
    return asChatError(this.#options.store.bots(admin ? undefined : by.userId));
  }

  /** Revokes the bot's token, or with `renew` replaces it. Its owner, or an admin. */
  async revoke(
    by: Identity,
    name: string,
    renew: boolean,
  ): Promise<{ bot: BotRecord; token: string }> {
    const { store, clock, rules } = this.#options;
    const account = await asChatError(store.accountByName(nameKey(name.trim())));
    const found = account && (await asChatError(store.bot(account.userId)));
    if (!found || (found.ownerId !== by.userId && !rules.isAdmin(by))) {
      throw new ChatError(
        "not_found",
        `You have no bot named "${name.trim()}"; ListBots shows the bots you own.`,
      );
    }
    const token = renew ? `${BOT_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}` : "";
    const bot = await asChatError(
      store.setBotToken(found.userId, renew ? hashToken(token) : "", renew ? 0 : clock.now()),
    );
    if (!bot) throw new ChatError("not_found", `The bot "${found.username}" is gone.`);
    this.#options.changed(bot);
    // What the old token opened ends with it.
    this.#options.endStreams(
      bot.userId,
      renew
        ? "This bot's token was replaced by its owner."
        : "This bot's token was revoked by its owner.",
    );
    return { bot, token };
  }

  /** The bot whose token this is, as the identity its calls carry; undefined when unknown or revoked. */
  async authenticate(token: string): Promise<Identity | undefined> {
    const bot = await asChatError(this.#options.store.botByToken(hashToken(token)));
    if (bot?.revokedMs !== 0) return undefined;
    return {
      userId: bot.userId,
      username: bot.username,
      botScope: { rooms: new Set(bot.rooms), read: bot.canRead },
    };
  }

  /** The owner may give a bot only rooms they could post in themselves, and no DMs. */
  async #checkRooms(owner: Identity, names: readonly string[]): Promise<RoomId[]> {
    const rooms = [...new Set(names.map((name) => name.trim()))];
    if (rooms.length === 0 || rooms.length > MAX_ROOMS) {
      throw new ChatError(
        "invalid_argument",
        `Name 1-${MAX_ROOMS} rooms the bot may use (it may use no others).`,
      );
    }
    for (const room of rooms) {
      checkAccess(owner.userId, room, this.#options.maxRoomChars);
      if (isDirectRoom(room)) {
        throw new ChatError("invalid_argument", "A bot cannot be given direct-message rooms.");
      }
      await this.#options.rules.checkAct(owner, room, "post");
    }
    return rooms;
  }
}

function checkOutgoing(input: NewBot): OutgoingHook | undefined {
  const raw = input.outgoingUrl.trim();
  if (raw === "") {
    if (input.trigger === "words" || input.words.length > 0) {
      throw new ChatError("invalid_argument", "Trigger words need an outgoing URL to POST to.");
    }
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ChatError("invalid_argument", `"${raw}" is not a URL; give an http or https one.`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || raw.length > MAX_URL_CHARS) {
    throw new ChatError(
      "invalid_argument",
      `The outgoing URL must be http or https, at most ${MAX_URL_CHARS} characters.`,
    );
  }
  const words = [...new Set(input.words.map((word) => word.trim().toLowerCase()))].filter(
    (word) => word !== "",
  );
  if (input.trigger === "words" && (words.length === 0 || words.length > MAX_WORDS)) {
    throw new ChatError(
      "invalid_argument",
      `A bot triggered by words needs 1-${MAX_WORDS} of them.`,
    );
  }
  return {
    url: url.toString(),
    trigger: input.trigger,
    words: input.trigger === "words" ? words : [],
    signingSecret: randomBytes(32).toString("base64url"),
  };
}
