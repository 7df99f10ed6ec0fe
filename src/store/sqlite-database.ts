import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DM_PREFIX } from "../wire/room-names.ts";
import {
  ACCOUNT_COLUMNS,
  changeResult,
  entryText,
  INSERT_COLUMNS,
  MESSAGE_COLUMNS,
  storedMessage,
  toAccount,
  toMessage,
} from "./rows.ts";
import { SqliteAdmin } from "./sqlite-admin.ts";
import type { BackupTurns } from "./sqlite-backup.ts";
import { SqliteChanges } from "./sqlite-changes.ts";
import { SqliteGovernance } from "./sqlite-governance.ts";
import { SqliteIntegrations } from "./sqlite-integrations.ts";
import { migrate } from "./sqlite-migrations.ts";
import type { CallOutcome, GroupOutcome, WorkerInput } from "./sqlite-protocol.ts";
import { type PruneJob, Pruner } from "./sqlite-prune.ts";
import { SqliteReads } from "./sqlite-reads.ts";
import { SqliteSearch } from "./sqlite-search.ts";
import { SearchBackfill } from "./sqlite-search-backfill.ts";
import { registerSearchFunctions, SearchIndex } from "./sqlite-search-index.ts";
import { SqliteReadMarkers, type UnreadRoom } from "./sqlite-unread.ts";
import {
  type Account,
  type AfterPage,
  type AppendResult,
  CHANGE_KINDS,
  type HistoryOptions,
  type MessageId,
  type NewMessage,
  type RetentionPolicy,
  type RoomId,
  type RoomSummary,
  type Store,
  type StoredMessage,
  type TokenOwner,
  type TokenRecord,
  type UnreadCount,
  type UserId,
} from "./store.ts";

// Short at open, so a file another server holds is refused at once rather
// than after the normal wait; once the lock is ours nobody else can hold us up.
const OPEN_BUSY_TIMEOUT_MS = 150;
const BUSY_TIMEOUT_MS = 5_000;

// Every name starting with the prefix ("dm:") sorts below the prefix with its
// last character raised by one ("dm;"), and every other name at or above that
// sorts after them all.
const AFTER_DMS =
  DM_PREFIX.slice(0, -1) + String.fromCharCode(DM_PREFIX.charCodeAt(DM_PREFIX.length - 1) + 1);

/**
 * Opens (creating the directory and file), locks and migrates the database.
 * Throws SQLite's own error when another connection holds the file.
 */
export function openDatabase(input: WorkerInput, turns: BackupTurns): MessageDatabase {
  const memory = input.path === ":memory:";
  if (!memory) mkdirSync(dirname(input.path), { recursive: true });
  const db = new DatabaseSync(input.path, { timeout: OPEN_BUSY_TIMEOUT_MS });
  try {
    if (!memory) {
      // Before the first access: the connection then keeps every lock it
      // takes until it closes (the OS drops them if the process dies), and the
      // WAL index lives in this process's memory instead of a shared -shm file.
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
    }
    db.exec(`PRAGMA synchronous = ${input.durability === "normal" ? "NORMAL" : "FULL"}`);
    // A deleted message's text, and an edited one's old text, must leave the
    // file: freed cells and pages are zeroed rather than left for reuse.
    db.exec("PRAGMA secure_delete = ON");
    // An append is a statement with triggers (the search index's), so SQLite
    // keeps a statement journal for it, which otherwise spills to a temporary
    // file after 64 KiB and is then written there for the rest of the
    // transaction: in memory, acknowledged single sends went from 17,000-20,000
    // to 36,000-38,000 a second (`npm run bench -- ingest`). It also keeps the
    // pages such a journal saves, an erased text's among them, out of any
    // file. Nothing here builds temporary tables large enough to matter.
    db.exec("PRAGMA temp_store = MEMORY");
    // Before anything writes messages: the search index's triggers call it.
    registerSearchFunctions(db);
    migrate(db, input.path, input.nowMs);
    if (input.maxPageCount !== undefined) {
      db.exec(`PRAGMA max_page_count = ${Math.trunc(input.maxPageCount)}`);
    }
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return new MessageDatabase(db, turns);
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The store's SQL, synchronous, on one connection that is the file's only
 * writer. Made by `openDatabase`.
 */
export class MessageDatabase {
  readonly epoch: string;
  readonly idKey: string;
  /** Roles, bans, invites, reports, audit and admins: GovernanceStore's SQL. */
  readonly governance: SqliteGovernance;
  /** Accounts, whole rooms, exports, imports and backups: AdminStore's SQL. */
  readonly admin: SqliteAdmin;
  /** Bots, notification levels, emails and digests: IntegrationStore's SQL. */
  readonly integrations: SqliteIntegrations;
  /** SearchStore's SQL. */
  readonly search: SqliteSearch;
  /** Indexing for search the messages stored before there was an index. */
  readonly searchBackfill: SearchBackfill;
  readonly #db: DatabaseSync;
  // The only writer may keep each room's last id here instead of reading it
  // back on every append; entries are dropped whenever a rollback may have
  // given ids back, and reloaded from the table.
  readonly #lastIds = new Map<RoomId, MessageId>();
  readonly #insert: StatementSync;
  readonly #byClientMsgId: StatementSync;
  readonly #lastIdOf: StatementSync;
  readonly #reads: SqliteReads;
  readonly #pruner: Pruner;
  readonly #changes: SqliteChanges;
  readonly #markers: SqliteReadMarkers;
  readonly #searchIndex: SearchIndex;
  // Set when a commit replaced or erased a message's text: the WAL still
  // holds the old pages until a checkpoint.
  #erased = false;
  readonly #roomAfter: StatementSync;
  readonly #roomFrom: StatementSync;
  readonly #newestOf: StatementSync;
  readonly #topicOf: StatementSync;
  readonly #setTopic: StatementSync;
  readonly #insertAccount: StatementSync;
  readonly #accountByName: StatementSync;
  readonly #accountById: StatementSync;
  readonly #insertToken: StatementSync;
  readonly #tokenAccount: StatementSync;
  readonly #deleteToken: StatementSync;
  readonly #deleteExpiredTokens: StatementSync;
  readonly #deleteExpiredResetCodes: StatementSync;

  /** `turns` is how a backup shares the worker (see BackupTurns). */
  constructor(db: DatabaseSync, turns: BackupTurns) {
    this.#db = db;
    const epoch = db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get();
    this.epoch = String(epoch?.value);
    const idKey = db.prepare("SELECT value FROM meta WHERE key = 'id_key'").get()?.value;
    // Refused rather than defaulted: public ids made under any other key would
    // name nobody in the history, and a guessable key would let anyone make them.
    if (typeof idKey !== "string" || !/^[0-9a-f]{64}$/.test(idKey)) {
      throw new Error("the database's id_key is missing or malformed");
    }
    this.idKey = idKey;
    // A repeated idempotency key inserts nothing (changes = 0); only then is
    // the first message looked up, so a new keyed message costs one statement.
    this.#insert = db.prepare(
      `INSERT INTO messages (${INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room, user_id, client_msg_id) WHERE client_msg_id <> '' DO NOTHING`,
    );
    // The repeated "<> ''" lets SQLite use the partial index; without it every
    // lookup scans the room.
    this.#byClientMsgId = db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE room = ? AND user_id = ? AND client_msg_id = ? AND client_msg_id <> ''`,
    );
    // Retention may have removed a room's newest ids; they are still used.
    this.#lastIdOf = db.prepare(
      `SELECT max(coalesce((SELECT max(id) FROM messages WHERE room = ?1), 0),
                  coalesce((SELECT pruned_through FROM rooms WHERE room = ?1), 0)) AS id`,
    );
    this.#reads = new SqliteReads(db);
    this.search = new SqliteSearch(db, (room, id, viewer) => this.#reads.message(room, id, viewer));
    this.#searchIndex = new SearchIndex(db);
    this.searchBackfill = new SearchBackfill(db, this.#searchIndex);
    this.#pruner = new Pruner(db, (room) => this.lastId(room));
    this.#changes = new SqliteChanges(db);
    this.#markers = new SqliteReadMarkers(db);
    this.governance = new SqliteGovernance(db);
    this.integrations = new SqliteIntegrations(db);
    this.admin = new SqliteAdmin(
      db,
      {
        lastId: (room) => this.lastId(room),
        forgetLastId: (room) => this.#lastIds.delete(room),
        roomDeleted: (room) => this.#pruner.forget(room),
        indexForSearch: () => this.#searchIndex.flush(),
      },
      turns,
    );
    // The next room name: one seek in the messages' primary key, one in
    // rooms_with_topic, one in room_records (a room created but not yet used).
    // min() of an empty range is NULL, which the outer min() passes over.
    const nextRoom = (op: ">" | ">=") =>
      db.prepare(`
SELECT min(room) AS room FROM (
  SELECT min(room) AS room FROM messages WHERE room ${op} ?1
  UNION ALL
  SELECT min(room) FROM rooms WHERE room ${op} ?1 AND topic <> ''
  UNION ALL
  SELECT min(room) FROM room_records WHERE room ${op} ?1
)`);
    this.#roomAfter = nextRoom(">");
    this.#roomFrom = nextRoom(">=");
    this.#newestOf = db.prepare(
      "SELECT id, time_ms FROM messages WHERE room = ? ORDER BY id DESC LIMIT 1",
    );
    this.#topicOf = db.prepare("SELECT topic FROM rooms WHERE room = ?");
    // pruned_through is left as it is, or 0 for a room retention never touched.
    this.#setTopic = db.prepare(
      `INSERT INTO rooms (room, topic) VALUES (?, ?)
       ON CONFLICT (room) DO UPDATE SET topic = excluded.topic`,
    );
    // Without a conflict target DO NOTHING covers both user_id and name_key.
    this.#insertAccount = db.prepare(
      `INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#accountByName = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name_key = ?`);
    this.#accountById = db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ?`);
    this.#insertToken = db.prepare(
      "INSERT INTO tokens (token_hash, user_id, expires_ms) VALUES (?, ?, ?)",
    );
    // Disabling deletes an account's tokens, but a login that checked the
    // password just before may still save one after.
    this.#tokenAccount = db.prepare(
      `SELECT ${ACCOUNT_COLUMNS.replaceAll(/(\w+)/g, "a.$1")}, t.expires_ms
       FROM tokens t JOIN accounts a ON a.user_id = t.user_id
       WHERE t.token_hash = ? AND t.expires_ms > ? AND a.disabled = 0`,
    );
    this.#deleteToken = db.prepare("DELETE FROM tokens WHERE token_hash = ?");
    this.#deleteExpiredTokens = db.prepare("DELETE FROM tokens WHERE expires_ms <= ?");
    this.#deleteExpiredResetCodes = db.prepare("DELETE FROM reset_codes WHERE expires_ms <= ?");
  }

  /**
   * Appends every call's messages in one transaction, a call of several
   * messages inside its own savepoint (one statement is atomic by itself): a
   * call that fails is rolled back alone and the others go on. When the
   * transaction itself fails, every call fails.
   */
  appendGroup(calls: readonly (readonly NewMessage[])[], timeMs: number): GroupOutcome<unknown> {
    const touched = new Set<RoomId>();
    const failAll = (error: unknown): GroupOutcome<unknown> => {
      this.#rollback();
      for (const room of touched) this.#lastIds.delete(room);
      return { committed: false, calls: calls.map(() => ({ ok: false, error })) };
    };
    try {
      this.#db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      return failAll(error);
    }
    const outcomes: CallOutcome<unknown>[] = [];
    for (const call of calls) {
      const rooms = new Set<RoomId>();
      // One statement is atomic by itself: only a call of several, or a change
      // (several statements), needs a savepoint.
      const first = call[0];
      const savepoint = call.length > 1 || (first !== undefined && CHANGE_KINDS.has(first.kind));
      try {
        if (savepoint) this.#db.exec("SAVEPOINT append_call");
        const results = call.map((message) => this.#appendOne(message, timeMs, rooms));
        if (savepoint) this.#db.exec("RELEASE append_call");
        outcomes.push({ ok: true, results });
      } catch (error) {
        for (const room of rooms) touched.add(room);
        // SQLite rolls the whole transaction back itself on some errors (a
        // full disk, an I/O error, out of memory): the other calls are gone too.
        if (!this.#db.isTransaction) return failAll(error);
        try {
          if (savepoint) {
            this.#db.exec("ROLLBACK TO append_call");
            this.#db.exec("RELEASE append_call");
          }
        } catch (rollbackError) {
          return failAll(rollbackError);
        }
        for (const room of rooms) this.#lastIds.delete(room);
        outcomes.push({ ok: false, error });
      }
      for (const room of rooms) touched.add(room);
    }
    try {
      // Before the commit, so a message is found once it is acknowledged.
      this.#searchIndex.flush();
      this.#db.exec("COMMIT");
    } catch (error) {
      return failAll(error);
    }
    if (this.#erased) this.#checkpoint();
    return { committed: true, calls: outcomes };
  }

  /** The newest messages before `options.beforeId`, newest first, in their current state. */
  history(room: RoomId, options: HistoryOptions): StoredMessage[] {
    return this.#reads.history(room, options);
  }

  message(room: RoomId, id: MessageId, viewer: UserId | undefined): StoredMessage | undefined {
    return this.#reads.message(room, id, viewer);
  }

  markRead(userId: UserId, room: RoomId, lastReadId: MessageId): MessageId {
    return this.#markers.markRead(userId, room, lastReadId);
  }

  readMarker(userId: UserId, room: RoomId): MessageId {
    return this.#markers.marker(userId, room);
  }

  unread(
    userId: UserId,
    rooms: readonly UnreadRoom[],
    cap: number,
    mentionNames: readonly string[],
  ): UnreadCount[] {
    return this.#markers.unread(userId, rooms, cap, mentionNames);
  }

  after(room: RoomId, afterId: MessageId, limit: number, includeSystem: boolean): AfterPage {
    return this.#reads.after(room, afterId, limit, includeSystem);
  }

  /** The room's newest id ever given (retention does not lower it); 0 for none. */
  lastId(room: RoomId): MessageId {
    let id = this.#lastIds.get(room);
    if (id === undefined) {
      id = Number(this.#lastIdOf.get(room)?.id ?? 0);
      this.#lastIds.set(room, id);
    }
    return id;
  }

  /** Fixes what `policy` will remove; see Pruner.start. */
  startPrune(policy: RetentionPolicy): PruneJob {
    return this.#pruner.start(policy);
  }

  /** One transaction of `job`; true when it is done. See Pruner.step. */
  pruneStep(job: PruneJob): boolean {
    return this.#pruner.step(job);
  }

  /**
   * Walks room names in order, one seek per room from the one before, so a
   * page costs its rooms rather than the messages. Without `dmsOf` the dm
   * rooms are passed in one seek; with it each dm room is visited, since a
   * user's id may be either half of a dm room's name.
   */
  listRooms(options: Parameters<Store["listRooms"]>[0]): RoomSummary[] {
    const { limit, afterRoom, dmsOf } = options;
    const list: RoomSummary[] = [];
    let room =
      afterRoom === undefined
        ? this.#nextRoom(this.#roomFrom, "")
        : this.#nextRoom(this.#roomAfter, afterRoom);
    while (room !== undefined && list.length < limit) {
      const dm = room.startsWith(DM_PREFIX);
      if (dm && dmsOf === undefined) {
        room = this.#nextRoom(this.#roomFrom, AFTER_DMS);
        continue;
      }
      if (!dm || `${room}:`.includes(`:${dmsOf}:`)) list.push(this.#summary(room));
      room = this.#nextRoom(this.#roomAfter, room);
    }
    return list;
  }

  setTopic(room: RoomId, topic: string): void {
    this.#setTopic.run(room, topic);
  }

  topic(room: RoomId): string {
    const row = this.#topicOf.get(room);
    return row ? String(row.topic) : "";
  }

  /** False, storing nothing, when the account's userId or nameKey is taken. */
  createAccount(account: Account): boolean {
    const { changes } = this.#insertAccount.run(
      account.userId,
      account.username,
      account.nameKey,
      account.passwordHash,
      account.createdMs,
    );
    return Number(changes) === 1;
  }

  accountById(userId: string): Account | undefined {
    const row = this.#accountById.get(userId);
    return row ? toAccount(row) : undefined;
  }

  accountByName(nameKey: string): Account | undefined {
    const row = this.#accountByName.get(nameKey);
    return row ? toAccount(row) : undefined;
  }

  saveToken(token: TokenRecord): void {
    this.#insertToken.run(token.tokenHash, token.userId, token.expiresMs);
  }

  tokenAccount(tokenHash: string, nowMs: number): TokenOwner | undefined {
    const row = this.#tokenAccount.get(tokenHash, nowMs);
    return row ? { account: toAccount(row), expiresMs: Number(row.expires_ms) } : undefined;
  }

  /** Whether the token existed. */
  revokeToken(tokenHash: string): boolean {
    return Number(this.#deleteToken.run(tokenHash).changes) > 0;
  }

  /**
   * Deletes every token and reset code that expires at or before `nowMs`
   * (neither can be used then); one statement each, as they are few.
   */
  deleteExpiredTokens(nowMs: number): void {
    this.#deleteExpiredTokens.run(nowMs);
    this.#deleteExpiredResetCodes.run(nowMs);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #appendOne(message: NewMessage, timeMs: number, rooms: Set<RoomId>): AppendResult {
    rooms.add(message.room);
    const id = this.lastId(message.room) + 1;
    if (CHANGE_KINDS.has(message.kind)) return this.#appendChange(message, id, timeMs);
    const { changes } = this.#insert.run(
      message.room,
      id,
      timeMs,
      message.userId,
      message.username,
      message.text,
      message.kind,
      message.clientMsgId,
      message.refId ?? 0,
      0,
    );
    if (changes === 0) {
      const row = this.#byClientMsgId.get(message.room, message.userId, message.clientMsgId);
      if (!row) throw new Error("an insert changed nothing, yet no message has its key");
      return { message: toMessage(row), duplicate: true };
    }
    this.#lastIds.set(message.room, id);
    return { message: storedMessage(message, id, timeMs), duplicate: false };
  }

  /** A change applied to its target and stored as entry `id`, unless it changed nothing. */
  #appendChange(change: NewMessage, id: MessageId, timeMs: number): AppendResult {
    const outcome = this.#changes.apply(change, id, timeMs);
    if (!outcome.changed) return changeResult(change, 0, timeMs, outcome.count);
    if (outcome.erased) this.#erased = true;
    const { room, userId, username, kind, refId } = change;
    this.#insert.run(
      room,
      id,
      timeMs,
      userId,
      username,
      entryText(change),
      kind,
      "",
      refId ?? 0,
      outcome.count,
    );
    this.#lastIds.set(room, id);
    return changeResult(change, id, timeMs, outcome.count);
  }

  /**
   * Copies the WAL into the file and empties it, so the pages that held
   * replaced or erased text (zeroed in the file by secure_delete) are gone
   * from the WAL too. The commit has happened: a checkpoint that fails now
   * is tried again after the next erasing commit, or at close.
   */
  #checkpoint(): void {
    try {
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      this.#erased = false;
    } catch {}
  }

  #nextRoom(statement: StatementSync, bound: RoomId): RoomId | undefined {
    const room = statement.get(bound)?.room;
    return typeof room === "string" ? room : undefined;
  }

  #summary(room: RoomId): RoomSummary {
    const newest = this.#newestOf.get(room);
    return {
      room,
      lastId: newest ? Number(newest.id) : 0,
      lastTimeMs: newest ? Number(newest.time_ms) : 0,
      topic: this.topic(room),
    };
  }

  // The error being reported matters more than a rollback that fails too.
  #rollback(): void {
    if (!this.#db.isTransaction) return;
    try {
      this.#db.exec("ROLLBACK");
    } catch {}
  }
}
