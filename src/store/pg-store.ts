import pg from "pg";
import { DM_PREFIX } from "../wire/room-names.ts";
import {
  type AdminCall,
  type AdminMethod,
  type AdminResult,
  dispatchAdmin,
} from "./admin-calls.ts";
import {
  dispatch,
  type GovernanceCall,
  type GovernanceMethod,
  type GovernanceResult,
} from "./governance-calls.ts";
import {
  dispatchIntegration,
  type IntegrationCall,
  IntegrationCalls,
  type IntegrationMethod,
  type IntegrationResult,
} from "./integration-calls.ts";
import { PgAdmin } from "./pg-admin.ts";
import { AppendLanes } from "./pg-append.ts";
import { isTransient, unavailableIfTransient } from "./pg-errors.ts";
import { PgGovernance } from "./pg-governance.ts";
import { PgIntegrations } from "./pg-integrations.ts";
import {
  afterSql,
  historySql,
  markReadSql,
  messageSql,
  toUnreadCounts,
  unreadSql,
  unreadValues,
} from "./pg-reads.ts";
import { migrate, schemaName } from "./pg-schema.ts";
import { PgSearch } from "./pg-search.ts";
import { ensureSearchIndexes, type SearchIndexProgress } from "./pg-search-indexes.ts";
import { ACCOUNT_COLUMNS, toAccount, toMessage } from "./rows.ts";
import type {
  Account,
  AdminStore,
  AfterPage,
  AppendResult,
  GovernanceStore,
  HistoryOptions,
  IntegrationStore,
  MessageId,
  NewMessage,
  RetentionPolicy,
  RoomId,
  RoomSummary,
  SearchQuery,
  Store,
  StoredMessage,
  TokenOwner,
  TokenRecord,
  UnreadCount,
  UserId,
} from "./store.ts";
import { StoreUnavailableError } from "./store.ts";
import { checkMarker, checkUnreadOptions } from "./store-arguments.ts";

export interface PgStoreOptions {
  /** postgres://user@host:port/database */
  readonly url: string;
  /** The schema holding the tables (created if missing). Default "grpc_chat". */
  readonly schema?: string;
  /** The store's clock: message times and token expiry. */
  readonly now?: () => number;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** Groups of appends committing at once, each on a connection of the pool. Default 4. */
  readonly appendLanes?: number;
  /**
   * The text search configuration words are indexed with ("english" stems
   * and drops stop words). Default "simple": words as written, folded. Every
   * node of a cluster must use the same; a change rebuilds the word index.
   */
  readonly searchLanguage?: string;
  /**
   * Told how building the search indexes goes, when opening has to build
   * them (a database from before search, or a build interrupted): a
   * million messages take minutes.
   */
  readonly onSearchIndexProgress?: (progress: SearchIndexProgress) => void;
  /** How often a concurrent build's progress is read for onSearchIndexProgress. Default 1 s. */
  readonly searchIndexProgressEveryMs?: number;
}

/**
 * Opens the PostgreSQL store: connects, migrates the schema, reads the
 * history's epoch and id key. Rejects with StoreUnavailableError, saying
 * what to do, when the server cannot be reached.
 */
export async function openPgStore(options: PgStoreOptions): Promise<Store> {
  const schema = schemaName(options.schema ?? "grpc_chat");
  const now = options.now ?? Date.now;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // A query that waits longer than this for a connection is refused, not queued forever.
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection that breaks (the server restarted) is replaced on next use.
  pool.on("error", () => {});
  try {
    const client = await pool.connect();
    try {
      await migrate(client, schema, now());
      const searchLanguage = options.searchLanguage ?? "simple";
      await ensureSearchIndexes(client, pool, schema, {
        language: searchLanguage,
        ...(options.onSearchIndexProgress ? { onProgress: options.onSearchIndexProgress } : {}),
        ...(options.searchIndexProgressEveryMs === undefined
          ? {}
          : { progressEveryMs: options.searchIndexProgressEveryMs }),
      });
      const { rows } = await client.query(`SELECT key, value FROM ${schema}.meta`);
      const meta = new Map(rows.map((row) => [String(row.key), String(row.value)]));
      return new PgStore(pool, schema, now, {
        epoch: meta.get("epoch") ?? "",
        idKey: meta.get("id_key") ?? "",
        lanes: options.appendLanes ?? 4,
        searchLanguage,
      });
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw unavailableIfTransient(error, options.url);
  }
}

/**
 * The Store on PostgreSQL, shared by every node of a cluster. Appends are
 * grouped by AppendLanes (pg-append.ts) but tracked here like every other
 * call, so that close() waits for them too.
 */
class PgStore extends IntegrationCalls implements Store {
  readonly epoch: string;
  readonly idKey: string;
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #now: () => number;
  readonly #calls = new Set<Promise<unknown>>();
  readonly #appends: AppendLanes;
  readonly #governance: PgGovernance;
  readonly #admin: PgAdmin;
  readonly #integrations: PgIntegrations;
  readonly #search: PgSearch;
  #closing = false;

  constructor(
    pool: pg.Pool,
    schema: string,
    now: () => number,
    meta: { epoch: string; idKey: string; lanes: number; searchLanguage: string },
  ) {
    super();
    this.#pool = pool;
    this.#appends = new AppendLanes(pool, schema, now, meta.lanes);
    this.#governance = new PgGovernance(pool, schema);
    this.#admin = new PgAdmin(pool, schema);
    this.#integrations = new PgIntegrations(pool, schema);
    this.#search = new PgSearch(pool, schema, meta.searchLanguage, now);
    this.#s = schema;
    this.#now = now;
    this.epoch = meta.epoch;
    this.idKey = meta.idKey;
  }

  append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    return this.#track(() => this.#appends.append(messages));
  }

  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]> {
    const before =
      options.beforeId && options.beforeId > 0 ? options.beforeId : Number.MAX_SAFE_INTEGER;
    return this.#query(historySql(this.#s, options.includeSystem), [
      room,
      before,
      options.limit,
      options.viewer ?? null,
    ]).then((rows) => rows.map(toMessage));
  }

  message(room: RoomId, id: MessageId, viewer?: UserId): Promise<StoredMessage | undefined> {
    return this.#query(messageSql(this.#s), [room, id, viewer ?? null]).then((rows) =>
      rows[0] ? toMessage(rows[0]) : undefined,
    );
  }

  after(room: RoomId, afterId: MessageId, limit: number, includeSystem = true) {
    return this.#query(afterSql(this.#s, includeSystem), [room, afterId, limit]).then(
      (rows): AfterPage => ({
        messages: rows.filter((row) => row.id !== null).map(toMessage),
        prunedThrough: Number(rows[0]?.pruned ?? 0),
      }),
    );
  }

  lastId(room: RoomId): Promise<MessageId> {
    return this.#query(`SELECT last_id FROM ${this.#s}.rooms WHERE room = $1`, [room]).then(
      (rows) => Number(rows[0]?.last_id ?? 0),
    );
  }

  markRead(userId: UserId, room: RoomId, lastReadId: MessageId): Promise<MessageId> {
    const refused = checkMarker(lastReadId);
    if (refused) return Promise.reject(refused);
    return this.#query(markReadSql(this.#s), [userId, room, lastReadId]).then((rows) =>
      Number(rows[0]?.last_read_id ?? 0),
    );
  }

  readMarker(userId: UserId, room: RoomId): Promise<MessageId> {
    return this.#query(
      `SELECT last_read_id FROM ${this.#s}.read_markers WHERE user_id = $1 AND room = $2`,
      [userId, room],
    ).then((rows) => Number(rows[0]?.last_read_id ?? 0));
  }

  unread(
    userId: UserId,
    rooms: readonly RoomId[],
    options: Parameters<Store["unread"]>[2],
  ): Promise<UnreadCount[]> {
    const refused = checkUnreadOptions(options);
    if (refused) return Promise.reject(refused);
    return this.#query(unreadSql(this.#s), unreadValues(userId, rooms, options)).then((rows) =>
      toUnreadCounts(rooms, rows),
    );
  }

  prune(policy: RetentionPolicy): Promise<number> {
    return this.#track(async () => {
      const nowMs = this.#now();
      await this.#pool.query(`DELETE FROM ${this.#s}.tokens WHERE expires_ms <= $1`, [nowMs]);
      await this.#pool.query(`DELETE FROM ${this.#s}.reset_codes WHERE expires_ms <= $1`, [nowMs]);
      const { maxPerRoom, olderThanMs } = policy;
      if (maxPerRoom === undefined && olderThanMs === undefined) return 0;
      const { rows } = await this.#pool.query(`SELECT room FROM ${this.#s}.rooms ORDER BY room`);
      let removed = 0;
      for (const { room } of rows) {
        removed += await this.#pruneRoom(String(room), maxPerRoom, olderThanMs);
      }
      return removed;
    });
  }

  listRooms(options: Parameters<Store["listRooms"]>[0]): Promise<RoomSummary[]> {
    const { limit, afterRoom, dmsOf } = options;
    const s = this.#s;
    return this.#query(
      // A room is listed once it has history, a topic, or a record (created, or
      // given settings or roles, before anyone wrote in it).
      `SELECT n.room, coalesce(r.topic, '') AS topic, m.id, m.time_ms FROM (
         SELECT room FROM ${s}.rooms
         UNION ALL
         SELECT room FROM ${s}.room_records AS c
         WHERE NOT EXISTS (SELECT 1 FROM ${s}.rooms WHERE room = c.room)
       ) AS n
       LEFT JOIN ${s}.rooms AS r ON r.room = n.room
       LEFT JOIN LATERAL (
         SELECT id, time_ms FROM ${s}.messages WHERE room = n.room ORDER BY id DESC LIMIT 1
       ) AS m ON true
       WHERE ($1::text IS NULL OR n.room > $1)
         AND (m.id IS NOT NULL OR r.topic <> ''
              OR EXISTS (SELECT 1 FROM ${s}.room_records WHERE room = n.room))
         AND (NOT starts_with(n.room, $4)
              OR ($2::text IS NOT NULL AND strpos(n.room || ':', ':' || $2 || ':') > 0))
       ORDER BY n.room LIMIT $3`,
      [afterRoom ?? null, dmsOf ?? null, limit, DM_PREFIX],
    ).then((rows) =>
      rows.map((row) => ({
        room: String(row.room),
        lastId: Number(row.id ?? 0),
        lastTimeMs: Number(row.time_ms ?? 0),
        topic: String(row.topic),
      })),
    );
  }

  setTopic(room: RoomId, topic: string): Promise<void> {
    return this.#query(
      `INSERT INTO ${this.#s}.rooms (room, topic) VALUES ($1, $2)
       ON CONFLICT (room) DO UPDATE SET topic = excluded.topic`,
      [room, topic],
    ).then(() => {});
  }

  topic(room: RoomId): Promise<string> {
    return this.#query(`SELECT topic FROM ${this.#s}.rooms WHERE room = $1`, [room]).then((rows) =>
      String(rows[0]?.topic ?? ""),
    );
  }

  createAccount(account: Account): Promise<boolean> {
    return this.#track(async () => {
      const { rowCount } = await this.#pool.query(
        `INSERT INTO ${this.#s}.accounts (${ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [
          account.userId,
          account.username,
          account.nameKey,
          account.passwordHash,
          account.createdMs,
        ],
      );
      return rowCount === 1;
    });
  }

  accountByName(nameKey: string): Promise<Account | undefined> {
    return this.#query(`SELECT ${ACCOUNT_COLUMNS} FROM ${this.#s}.accounts WHERE name_key = $1`, [
      nameKey,
    ]).then((rows) => (rows[0] ? toAccount(rows[0]) : undefined));
  }

  accountById(userId: string): Promise<Account | undefined> {
    return this.#query(`SELECT ${ACCOUNT_COLUMNS} FROM ${this.#s}.accounts WHERE user_id = $1`, [
      userId,
    ]).then((rows) => (rows[0] ? toAccount(rows[0]) : undefined));
  }

  saveToken(token: TokenRecord): Promise<void> {
    return this.#query(
      `INSERT INTO ${this.#s}.tokens (token_hash, user_id, expires_ms) VALUES ($1, $2, $3)`,
      [token.tokenHash, token.userId, token.expiresMs],
    ).then(() => {});
  }

  // Disabling deletes an account's tokens, but a login that checked the
  // password just before may still save one after.
  tokenAccount(tokenHash: string, nowMs: number): Promise<TokenOwner | undefined> {
    return this.#query(
      `SELECT ${ACCOUNT_COLUMNS.replaceAll(/(\w+)/g, "a.$1")}, t.expires_ms
       FROM ${this.#s}.tokens AS t JOIN ${this.#s}.accounts AS a ON a.user_id = t.user_id
       WHERE t.token_hash = $1 AND t.expires_ms > $2 AND NOT a.disabled`,
      [tokenHash, nowMs],
    ).then((rows) =>
      rows[0] ? { account: toAccount(rows[0]), expiresMs: Number(rows[0].expires_ms) } : undefined,
    );
  }

  revokeToken(tokenHash: string): Promise<boolean> {
    return this.#track(async () => {
      const { rowCount } = await this.#pool.query(
        `DELETE FROM ${this.#s}.tokens WHERE token_hash = $1`,
        [tokenHash],
      );
      return (rowCount ?? 0) > 0;
    });
  }

  // Each GovernanceStore method (see GovernanceCalls) runs PgGovernance's, tracked like the rest.
  protected override governance<M extends GovernanceMethod>(
    method: M,
    args: Parameters<GovernanceStore[M]>,
  ): Promise<GovernanceResult<M>> {
    const call = { method, args } as GovernanceCall;
    return this.#track(() => dispatch(this.#governance, call) as Promise<GovernanceResult<M>>);
  }

  // Likewise each AdminStore method (see AdminCalls) runs PgAdmin's.
  protected override admin<M extends AdminMethod>(
    method: M,
    args: Parameters<AdminStore[M]>,
  ): Promise<AdminResult<M>> {
    const call = { method, args } as AdminCall;
    return this.#track(() => dispatchAdmin(this.#admin, call) as Promise<AdminResult<M>>);
  }

  // Likewise each IntegrationStore method (see IntegrationCalls) runs PgIntegrations'.
  protected override integration<M extends IntegrationMethod>(
    method: M,
    args: Parameters<IntegrationStore[M]>,
  ): Promise<IntegrationResult<M>> {
    const call = { method, args } as IntegrationCall;
    return this.#track(
      () => dispatchIntegration(this.#integrations, call) as Promise<IntegrationResult<M>>,
    );
  }

  search(query: SearchQuery): Promise<StoredMessage[]> {
    return this.#track(() => this.#search.search(query));
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.allSettled([...this.#calls]);
    await this.#search.close();
    await this.#pool.end();
  }

  /** Runs `call` unless the store is closing; close() waits for it; failures say whether to retry. */
  #track<T>(call: () => Promise<T>): Promise<T> {
    if (this.#closing) {
      return Promise.reject(new StoreUnavailableError("The store is closing."));
    }
    const running = call().catch((error: unknown) => {
      throw unavailableIfTransient(error);
    });
    this.#calls.add(running);
    const forget = () => this.#calls.delete(running);
    running.then(forget, forget);
    return running;
  }

  #query(sql: string, values: unknown[]): Promise<pg.QueryResultRow[]> {
    return this.#track(async () => (await this.#pool.query(sql, values)).rows);
  }

  /**
   * Removes a room's oldest run up to the first message the policy keeps, and
   * raises its pruned_through, in one transaction holding the room's row.
   */
  async #pruneRoom(room: RoomId, maxPerRoom?: number, olderThanMs?: number): Promise<number> {
    const client = await this.#pool.connect();
    let broken: unknown;
    try {
      await client.query("BEGIN");
      const { rows } = await client.query(
        `SELECT last_id FROM ${this.#s}.rooms WHERE room = $1 FOR UPDATE`,
        [room],
      );
      const cutoff = maxPerRoom === undefined ? 0 : Number(rows[0]?.last_id ?? 0) - maxPerRoom;
      const older = olderThanMs ?? Number.MIN_SAFE_INTEGER;
      const deleted = await client.query(
        `WITH kept AS (
           SELECT min(id) AS id FROM ${this.#s}.messages
           WHERE room = $1 AND id > $2 AND time_ms >= $3
         )
         DELETE FROM ${this.#s}.messages
         WHERE room = $1 AND id < coalesce((SELECT id FROM kept), 9223372036854775807)
         RETURNING id`,
        [room, cutoff, older],
      );
      const through = Math.max(0, ...deleted.rows.map((row) => Number(row.id)));
      let changes = 0;
      if (through > 0) {
        await client.query(
          `UPDATE ${this.#s}.rooms SET pruned_through = greatest(pruned_through, $2) WHERE room = $1`,
          [room, through],
        );
        // A message's change entries have higher ids, maybe above what the
        // policy removes, but mean nothing without it; they count as removed.
        // The predicate repeats messages_changes' own, so that index is used.
        const removed = await client.query(
          `DELETE FROM ${this.#s}.messages
           WHERE room = $1 AND ref_id <> 0 AND kind <> 'chat' AND ref_id <= $2`,
          [room, through],
        );
        changes = removed.rowCount ?? 0;
        await client.query(
          `DELETE FROM ${this.#s}.reactions WHERE room = $1 AND message_id <= $2`,
          [room, through],
        );
      }
      await client.query("COMMIT");
      return (deleted.rowCount ?? 0) + changes;
    } catch (error) {
      broken = error;
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
    }
  }
}
