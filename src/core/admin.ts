import type { RulesEffect } from "../bus/bus.ts";
import {
  type AccountListing,
  type ExportedMessage,
  type ExportedRoom,
  ImportConflictError,
  type Store,
} from "../store/store.ts";
import type { Accounts } from "./accounts.ts";
import type { AuditLog } from "./audit-log.ts";
import type { Changes } from "./changes.ts";
import { asChatError, ChatError, toChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { People } from "./people.ts";
import type { RoomRules } from "./room-rules.ts";
import { checkRoom } from "./rooms.ts";
import type { Identity, RoomId } from "./types.ts";

export interface AdminOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly people: People;
  readonly accounts: () => Accounts;
  readonly changes: () => Changes;
  readonly maxRoomChars: number;
  /** Tells every node: an account's streams end, or a room is gone. */
  readonly announce: (room: RoomId, effect?: RulesEffect) => void;
}

const RESET_CODE_MS = 24 * 3_600_000;
const EXPORT_PAGE = 1_000;
const MAX_PURGED = 100_000;

/** One line of an export. */
export type ExportLine =
  | ({ readonly type: "room" } & ExportedRoom)
  | ({ readonly type: "message" } & ExportedMessage);

/**
 * What server admins do beyond rooms' moderation: accounts (list, disable,
 * reset a password, delete), whole rooms (delete, purge a user's messages),
 * and the history's copies (export, import, backup). Every action is in the
 * audit log; the method table lets only admins call these.
 */
export class Admin {
  readonly #options: AdminOptions;

  constructor(options: AdminOptions) {
    this.#options = options;
  }

  async listUsers(limit: number, afterNameKey?: string): Promise<AccountListing[]> {
    return asChatError(
      this.#options.store.listAccounts({ limit, ...(afterNameKey ? { afterNameKey } : {}) }),
    );
  }

  async setDisabled(by: Identity, userRef: string, disabled: boolean, reason: string) {
    const user = await this.#account(userRef);
    if (user.userId === by.userId)
      throw new ChatError("invalid_argument", "You cannot disable yourself.");
    await asChatError(this.#options.store.setDisabled(user.userId, disabled));
    await this.#options.audit.record(by, disabled ? "disable_user" : "enable_user", "", {
      target: user.userId,
      reason,
    });
    if (disabled) this.#endStreams(user, "This account was disabled by the server's admins.");
    return user;
  }

  async resetPassword(by: Identity, userRef: string) {
    const user = await this.#account(userRef);
    const reset = await this.#options.accounts().resetCode(user.userId, RESET_CODE_MS);
    // The old password and every token stop working at once, not when the code is used.
    await asChatError(this.#options.store.setPasswordHash(user.userId, "reset"));
    await this.#options.audit.record(by, "reset_password", "", { target: user.userId });
    this.#endStreams(
      user,
      "Your password was reset by the server's admins; set a new one with the code they give you.",
    );
    return reset;
  }

  async deleteUser(by: Identity, userRef: string, reason: string): Promise<void> {
    const user = await this.#account(userRef);
    if (user.userId === by.userId)
      throw new ChatError("invalid_argument", "You cannot delete yourself.");
    // Its bots go with it (the store deletes them), and so do their streams.
    const bots = await asChatError(this.#options.store.bots(user.userId));
    await asChatError(this.#options.store.deleteAccount(user.userId));
    await this.#options.audit.record(by, "delete_user", "", {
      target: user.userId,
      reason,
      detail: user.username,
    });
    this.#endStreams(user, "This account was deleted by the server's admins.");
    for (const bot of bots) {
      this.#endStreams(
        { userId: bot.userId, username: bot.username },
        "This bot's owner was deleted by the server's admins.",
      );
    }
  }

  async deleteRoom(by: Identity, room: RoomId, reason: string): Promise<number> {
    checkRoom(room, this.#options.maxRoomChars);
    const removed = await asChatError(this.#options.store.deleteRoom(room));
    await this.#options.audit.record(by, "delete_room", room, {
      target: room,
      reason,
      detail: `${removed} messages`,
    });
    this.#options.announce(room, { kind: "deleted" });
    return removed;
  }

  /** Erases a user's messages in a room: all, or from the last `hours`. */
  async purge(
    by: Identity,
    room: RoomId,
    userRef: string,
    hours: number,
    reason: string,
  ): Promise<number> {
    checkRoom(room, this.#options.maxRoomChars);
    const user = await this.#options.people.resolve(userRef);
    const since = hours === 0 ? 0 : this.#options.clock.now() - hours * 3_600_000;
    const ids = await asChatError(
      this.#options.store.messageIdsBy(room, user.userId, since, MAX_PURGED),
    );
    let erased = 0;
    for (const id of ids) {
      try {
        const result = await this.#options.changes().delete(by, { room, id }, { withBan: true });
        if (!result.unchanged) erased += 1;
      } catch (error) {
        if (toChatError(error).code !== "not_found") throw error;
      }
    }
    await this.#options.audit.record(by, "purge", room, {
      target: user.userId,
      reason,
      detail: `${erased} messages erased${hours ? ` from the last ${hours} h` : ""}`,
    });
    return erased;
  }

  /** One room, or every room, as export lines: each room, then its messages oldest first. */
  async *export(by: Identity, room: RoomId | undefined): AsyncGenerator<ExportLine> {
    const { store, audit } = this.#options;
    const rooms = await asChatError(store.exportRooms());
    const chosen = room === undefined ? rooms : rooms.filter((r) => r.room === room);
    if (room !== undefined && chosen.length === 0) {
      throw new ChatError("not_found", `There is no room "${room}" with anything to export.`);
    }
    await audit.record(by, "export", room ?? "", { target: room ?? "all rooms" });
    for (const exported of chosen) {
      yield { type: "room", ...exported };
      let after = 0;
      for (;;) {
        const page = await asChatError(store.exportMessages(exported.room, after, EXPORT_PAGE));
        for (const message of page) yield { type: "message", ...message };
        const last = page.at(-1);
        if (!last || page.length < EXPORT_PAGE) break;
        after = last.id;
      }
    }
  }

  /** Loads export lines in order; resolves to how many rooms and messages were loaded. */
  async import(
    by: Identity,
    lines: AsyncIterable<ExportLine>,
  ): Promise<{ rooms: number; messages: number }> {
    const { store, audit, rules } = this.#options;
    let room: RoomId | undefined;
    let batch: ExportedMessage[] = [];
    let rooms = 0;
    let messages = 0;
    const flush = async () => {
      if (room === undefined || batch.length === 0) return;
      await this.#stored(store.importMessages(room, batch));
      messages += batch.length;
      batch = [];
    };
    for await (const line of lines) {
      if (line.type === "room") {
        await flush();
        const { type: _type, ...exported } = line;
        await this.#stored(store.importRoom(exported));
        room = exported.room;
        rules.forget(room);
        rooms += 1;
      } else {
        const { type: _type, ...message } = line;
        if (message.room !== room) {
          throw new ChatError(
            "invalid_argument",
            "A message line must follow the line of its room.",
          );
        }
        batch.push(message);
        if (batch.length >= EXPORT_PAGE) await flush();
      }
    }
    await flush();
    await audit.record(by, "import", "", {
      target: `${rooms} rooms`,
      detail: `${messages} messages`,
    });
    return { rooms, messages };
  }

  /** A consistent copy of the database at `path` on the server, taken while it runs. */
  async backup(by: Identity, path: string): Promise<void> {
    await asChatError(this.#options.store.backup(path));
    await this.#options.audit.record(by, "backup", "", { target: "database" });
  }

  async #account(userRef: string): Promise<Identity> {
    const user = await this.#options.people.resolve(userRef);
    if (!user.userId.startsWith("a-")) {
      throw new ChatError(
        "invalid_argument",
        `${user.username || user.userId} is a guest, not an account.`,
      );
    }
    return user;
  }

  #endStreams(user: Identity, reason: string): void {
    this.#options.announce("", { kind: "account", userId: user.userId, reason });
  }

  async #stored(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (error instanceof ImportConflictError)
        throw new ChatError("failed_precondition", error.message);
      throw toChatError(error);
    }
  }
}
