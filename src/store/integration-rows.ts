// Integration rows as both stores' tables hold them (the same columns on
// SQLite and PostgreSQL), mapped to the store's types. A bot's rooms and its
// hook's words are JSON text on both, so one mapping reads either.
import type { BotCursor, BotRecord, BotTrigger, NotifyLevel } from "./store.ts";

/** A bot's own columns, as `bots` holds them, in the order INSERT_BOT writes them. */
export const BOT_COLUMNS =
  "user_id, owner_id, rooms, can_read, token_hash, created_ms, revoked_ms, out_url, out_trigger, out_words, out_secret";

/** A bot read with its account's name: `b` is bots, `a` accounts. */
export const BOT_SELECT = `${BOT_COLUMNS.replaceAll(/(\w+)/g, "b.$1")}, b.last_error, b.last_error_ms, a.username`;

type Row = Record<string, unknown>;

/** BOT_COLUMNS' values for `bot`; a bot without an outgoing hook has an empty url. */
export function botValues(bot: BotRecord) {
  const out = bot.outgoing;
  return [
    bot.userId,
    bot.ownerId,
    JSON.stringify(bot.rooms),
    bot.canRead,
    bot.tokenHash,
    bot.createdMs,
    bot.revokedMs,
    out?.url ?? "",
    out?.trigger ?? "mentions",
    JSON.stringify(out?.words ?? []),
    out?.signingSecret ?? "",
  ] as const;
}

const list = (value: unknown): string[] =>
  (typeof value === "string" ? JSON.parse(value) : (value ?? [])) as string[];

export function toBot(row: Row): BotRecord {
  const url = String(row.out_url);
  return {
    userId: String(row.user_id),
    username: String(row.username),
    ownerId: String(row.owner_id),
    rooms: list(row.rooms),
    canRead: row.can_read === true || Number(row.can_read) === 1,
    tokenHash: String(row.token_hash),
    createdMs: Number(row.created_ms),
    revokedMs: Number(row.revoked_ms),
    lastError: String(row.last_error ?? ""),
    lastErrorMs: Number(row.last_error_ms ?? 0),
    outgoing:
      url === ""
        ? undefined
        : {
            url,
            trigger: String(row.out_trigger) as BotTrigger,
            words: list(row.out_words),
            signingSecret: String(row.out_secret),
          },
  };
}

export function toBotCursor(row: Row): BotCursor {
  return { room: String(row.room), deliveredId: Number(row.delivered_id) };
}

/** Rows of (key, level), as notifyLevels() and notifyLevelsIn() return them. */
export function toLevelMap(rows: readonly Row[], key: string): Map<string, NotifyLevel> {
  return new Map(rows.map((row) => [String(row[key]), String(row.level) as NotifyLevel]));
}
