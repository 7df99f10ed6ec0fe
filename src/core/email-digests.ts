import { createHmac, timingSafeEqual } from "node:crypto";
import type { Store } from "../store/store.ts";
import { mentions } from "../wire/mentions.ts";
import { directMembers, isDirectRoom } from "../wire/room-names.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { CoreLogger } from "./chat-options.ts";
import type { Clock } from "./clock.ts";
import { nameKey } from "./names.ts";
import type { ReadMarkers } from "./read-markers.ts";
import type { Identity, StoredMessage, UserId } from "./types.ts";

/** One mail, ready for the transport. */
export interface DigestMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Opening it stops the emails (also sent as List-Unsubscribe). */
  readonly unsubscribeUrl: string;
}

export interface EmailDigestsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly readMarkers: () => ReadMarkers;
  /** Sends a mail; rejects when the SMTP server refuses it. */
  readonly send: (mail: DigestMail) => Promise<void>;
  /** How long a mention or DM waits unread before it is mailed. */
  readonly delayMs: number;
  /** Where the HTTP port is reached from outside (no trailing slash), for the unsubscribe link. */
  readonly publicUrl: () => string;
  /** The key unsubscribe links are signed with (kept with the history). */
  readonly key: string;
  readonly logger: CoreLogger | undefined;
}

/** Where a link stops a user's emails. */
export const UNSUBSCRIBE_PATH = "/unsubscribe";
const MAX_ROOMS_READ = 1_000;
const SNIPPETS_PER_ROOM = 3;
const SNIPPET_CHARS = 200;
const EMAIL = /^[^\s@<>()[\],;:"]{1,64}@[^\s@<>()[\],;:"]{1,255}$/;

/** Checks an address a user gives; "" stops the emails. */
export function checkEmail(raw: string): string {
  const email = raw.trim();
  if (email !== "" && (!EMAIL.test(email) || !email.split("@")[1]?.includes("."))) {
    throw new ChatError(
      "invalid_argument",
      `"${email}" is not an email address like name@example.org.`,
    );
  }
  return email;
}

/**
 * Emails of mentions and DMs left unread. A message that mentions an account
 * with an address (or is a DM to it) schedules a digest `delayMs` later, one
 * per user however many messages come meanwhile; when it is due, whatever is
 * still unread then goes in one mail, and nothing at all if the user read it
 * first. Taking a due digest removes it in the store, so in a cluster one node
 * sends it.
 */
export class EmailDigests {
  readonly #options: EmailDigestsOptions;
  #sweeping = false;

  constructor(options: EmailDigestsOptions) {
    this.#options = options;
  }

  /** A message was stored here: whoever it is meant for gets a digest scheduled. */
  async noteMessage(message: StoredMessage): Promise<void> {
    if (message.kind !== "chat") return;
    const targets = await this.#targets(message);
    if (targets.length === 0) return;
    const { store, clock, delayMs } = this.#options;
    const levels = await store.notifyLevelsIn(message.room, targets);
    for (const userId of targets) {
      if (levels.get(userId) === "off") continue;
      if ((await store.emailOf(userId)) === "") continue;
      await store.scheduleDigest(userId, clock.now() + delayMs);
    }
  }

  /** Sends every digest that is due; a sweep already running is left to finish. */
  async sweep(): Promise<number> {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let sent = 0;
    try {
      const { store, clock } = this.#options;
      for (;;) {
        const due = await store.takeDueDigests(clock.now(), 20);
        for (const userId of due) if (await this.#sendDigest(userId)) sent += 1;
        if (due.length < 20) return sent;
      }
    } finally {
      this.#sweeping = false;
    }
  }

  /** The user id a signed unsubscribe link names, or undefined when its signature is wrong. */
  unsubscriber(userId: string, signature: string): UserId | undefined {
    const expected = Buffer.from(this.#sign(userId));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given)
      ? userId
      : undefined;
  }

  async unsubscribe(userId: UserId): Promise<void> {
    await asChatError(this.#options.store.setEmail(userId, ""));
  }

  #sign(userId: string): string {
    return createHmac("sha256", this.#options.key)
      .update(`unsubscribe:${userId}`)
      .digest("base64url");
  }

  /** Accounts other than the sender that the message is meant for. */
  async #targets(message: StoredMessage): Promise<UserId[]> {
    const direct = directMembers(message.room);
    if (direct) return direct.filter((id) => id !== message.userId && id.startsWith("a-"));
    const names = new Set<string>();
    for (const match of message.text.matchAll(/@([\p{L}\p{N}_.-]{1,64})/gu)) {
      if (match[1]) names.add(match[1]);
    }
    const found: UserId[] = [];
    for (const name of names) {
      const account = await this.#options.store.accountByName(nameKey(name));
      if (account && account.userId !== message.userId && account.userId.startsWith("a-")) {
        found.push(account.userId);
      }
    }
    return found;
  }

  async #sendDigest(userId: UserId): Promise<boolean> {
    const { store, readMarkers, logger } = this.#options;
    try {
      const [email, account] = await Promise.all([
        store.emailOf(userId),
        store.accountById(userId),
      ]);
      if (email === "" || !account) return false;
      const reader: Identity = { userId, username: account.username };
      const rooms = await store.listRooms({ limit: MAX_ROOMS_READ, dmsOf: userId });
      const levels = await store.notifyLevels(userId);
      const watched = rooms.map((r) => r.room).filter((room) => levels.get(room) !== "off");
      const counts = await readMarkers().unread(reader, watched);
      const lines: string[] = [];
      let total = 0;
      for (const [room, count] of counts) {
        if (count.mentions === 0) continue;
        total += count.mentions;
        const where = isDirectRoom(room) ? "a direct message" : `#${room}`;
        lines.push(`${count.mentions} unread in ${where}:`);
        const page = await store.after(room, count.lastReadId, 200);
        const meant = page.messages
          .filter((m) => m.kind === "chat" && !m.deleted && m.userId !== userId)
          .filter((m) => isDirectRoom(room) || mentions(m.text, account.username))
          .slice(-SNIPPETS_PER_ROOM);
        for (const m of meant) lines.push(`  ${m.username}: ${m.text.slice(0, SNIPPET_CHARS)}`);
        lines.push("");
      }
      // Read before the digest was due: nothing to send.
      if (total === 0) return false;
      const unsubscribeUrl = `${this.#options.publicUrl()}${UNSUBSCRIBE_PATH}?u=${encodeURIComponent(userId)}&s=${this.#sign(userId)}`;
      await this.#options.send({
        to: email,
        subject: `${account.username}: ${total} unread ${total === 1 ? "message" : "messages"} for you (mentions and direct messages)`,
        text: `${lines.join("\n")}\nStop these emails: ${unsubscribeUrl}\n`,
        unsubscribeUrl,
      });
      return true;
    } catch (error) {
      logger?.warn({ err: error, userId }, "an email digest could not be sent");
      return false;
    }
  }
}
