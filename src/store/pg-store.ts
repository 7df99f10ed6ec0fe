import pg from "pg";
import { migrate, schemaName } from "./pg-schema.ts";
import type {
  Account,
  AfterPage,
  AppendResult,
  HistoryOptions,
  MessageId,
  MessageKind,
  NewMessage,
  RetentionPolicy,
  RoomId,
  RoomSummary,
  Store,
  StoredMessage,
  TokenOwner,
  TokenRecord,
} from "./store.ts";
import { StoreUnavailableError } from "./store.ts";

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
}

const COLUMNS = "room, id, time_ms, user_id, username, text, kind, client_msg_id";
const ACCOUNT_COLUMNS = "user_id, username, name_key, password_hash, created_ms";

/**
 * Any number of messages, in any rooms, in one statement, so one commit:
 * each message's earlier copy when its client sent it before (no id taken),
 * else its room's next id (a send repeated within the messages is the
 * duplicate of its first copy). Each room's row is bumped once by its count of
 * new messages, rooms in name order, as every node does, so two nodes never
 * wait for each other in a circle; the row stays locked until the commit, so
 * no reader sees an id before the ones below it. `client_msg_id <> ''` is
 * spelled out so that a generic plan still uses the partial unique index.
 */
function appendSql(s: string): string {
  return `WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    WITH ORDINALITY AS t(room, user_id, username, text, kind, client_msg_id, ord)
), keyed AS (
  SELECT i.*, CASE WHEN i.client_msg_id = '' THEN i.ord
    ELSE min(i.ord) OVER (PARTITION BY i.room, i.user_id, i.client_msg_id) END AS first
  FROM input i
), dup AS (
  SELECT k.ord, m.room, m.id, m.time_ms, m.user_id, m.username, m.text, m.kind, m.client_msg_id
  FROM keyed k JOIN ${s}.messages m
    ON m.client_msg_id <> '' AND m.room = k.room AND m.user_id = k.user_id
   AND m.client_msg_id = k.client_msg_id
), fresh AS (
  SELECT k.*, row_number() OVER (PARTITION BY k.room ORDER BY k.ord) AS n,
         count(*) OVER (PARTITION BY k.room) AS c
  FROM keyed k WHERE k.first = k.ord AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.ord = k.ord)
), bumped AS (
  INSERT INTO ${s}.rooms AS r (room, last_id)
  SELECT room, max(c) FROM fresh GROUP BY room ORDER BY room
  ON CONFLICT (room) DO UPDATE SET last_id = r.last_id + EXCLUDED.last_id
  RETURNING room, last_id
), numbered AS (
  SELECT f.ord, f.room, b.last_id - f.c + f.n AS id, f.user_id, f.username, f.text, f.kind,
         f.client_msg_id
  FROM fresh f JOIN bumped b ON b.room = f.room
), stored AS (
  INSERT INTO ${s}.messages (${COLUMNS})
  SELECT room, id, $7::bigint, user_id, username, text, kind, client_msg_id FROM numbered
)
SELECT false AS duplicate, ord, room, id, $7::bigint AS time_ms, user_id, username, text, kind,
       client_msg_id
FROM numbered
UNION ALL
SELECT true, ord, room, id, time_ms, user_id, username, text, kind, client_msg_id FROM dup
UNION ALL
SELECT true, k.ord, n.room, n.id, $7::bigint, n.user_id, n.username, n.text, n.kind, n.client_msg_id
FROM keyed k JOIN numbered n ON n.ord = k.first
WHERE k.first <> k.ord AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.ord = k.ord)
ORDER BY ord`;
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
      const { rows } = await client.query(`SELECT key, value FROM ${schema}.meta`);
      const meta = new Map(rows.map((row) => [String(row.key), String(row.value)]));
      return new PgStore(pool, schema, now, {
        epoch: meta.get("epoch") ?? "",
        idKey: meta.get("id_key") ?? "",
        lanes: options.appendLanes ?? 4,
      });
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw unavailableIfTransient(error, options.url);
  }
}

interface PendingAppend {
  readonly messages: readonly NewMessage[];
  readonly resolve: (results: AppendResult[]) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Appends wait in lanes, a room always in the same one; each lane commits a
 * group at a time on a connection: everything that arrived while its last
 * group was committing goes in the next transaction, each call inside its own
 * savepoint, so a call that fails fails alone. One room's appends on a node
 * keep their order; other rooms' go on beside them. A room's next id comes
 * from its `rooms` row, locked until the transaction ends: appends to one
 * room from several nodes take turns, and no reader sees an id before the
 * ones below it are committed. A group takes its rooms' rows in name order,
 * as every node does, so two nodes' groups never wait for each other in a
 * circle.
 */
class PgStore implements Store {
  readonly epoch: string;
  readonly idKey: string;
  readonly #pool: pg.Pool;
  readonly #s: string;
  readonly #appendSql: string;
  readonly #appendName: string;
  readonly #now: () => number;
  readonly #calls = new Set<Promise<unknown>>();
  /** Appends wait in a lane chosen by room, and each lane commits a group at a time. */
  readonly #lanes: Array<{ waiting: PendingAppend[]; grouping: boolean }>;
  #closing = false;

  constructor(
    pool: pg.Pool,
    schema: string,
    now: () => number,
    meta: { epoch: string; idKey: string; lanes: number },
  ) {
    this.#pool = pool;
    this.#lanes = Array.from({ length: Math.max(1, meta.lanes) }, () => ({
      waiting: [],
      grouping: false,
    }));
    this.#s = schema;
    this.#appendSql = appendSql(schema);
    // A prepared statement is per connection; its name must stand for one text.
    this.#appendName = `append_${schema}`;
    this.#now = now;
    this.epoch = meta.epoch;
    this.idKey = meta.idKey;
  }

  append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    return this.#track(
      () =>
        new Promise<AppendResult[]>((resolve, reject) => {
          const lane = this.#lanes[laneOf(messages[0]?.room ?? "", this.#lanes.length)];
          if (!lane) throw new Error("no lane for an append");
          lane.waiting.push({ messages, resolve, reject });
          this.#nextGroup(lane);
        }),
    );
  }

  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]> {
    const before =
      options.beforeId && options.beforeId > 0 ? options.beforeId : Number.MAX_SAFE_INTEGER;
    return this.#query(
      `SELECT ${COLUMNS} FROM ${this.#s}.messages
       WHERE room = $1 AND id < $2 ${options.includeSystem ? "" : "AND kind <> 'system'"}
       ORDER BY id DESC LIMIT $3`,
      [room, before, options.limit],
    ).then((rows) => rows.map(toMessage));
  }

  after(room: RoomId, afterId: MessageId, limit: number, includeSystem = true) {
    // One statement, so the page and how far retention went are one snapshot.
    return this.#query(
      `SELECT coalesce((SELECT pruned_through FROM ${this.#s}.rooms WHERE room = $1), 0) AS pruned, m.*
       FROM (SELECT 1) AS one LEFT JOIN LATERAL (
         SELECT ${COLUMNS} FROM ${this.#s}.messages
         WHERE room = $1 AND id > $2 ${includeSystem ? "" : "AND kind <> 'system'"}
         ORDER BY id LIMIT $3
       ) AS m ON true`,
      [room, afterId, limit],
    ).then(
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

  prune(policy: RetentionPolicy): Promise<number> {
    return this.#track(async () => {
      await this.#pool.query(`DELETE FROM ${this.#s}.tokens WHERE expires_ms <= $1`, [this.#now()]);
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
    return this.#query(
      `SELECT r.room, r.topic, m.id, m.time_ms FROM ${this.#s}.rooms AS r
       LEFT JOIN LATERAL (
         SELECT id, time_ms FROM ${this.#s}.messages WHERE room = r.room ORDER BY id DESC LIMIT 1
       ) AS m ON true
       WHERE ($1::text IS NULL OR r.room > $1)
         AND (m.id IS NOT NULL OR r.topic <> '')
         AND (left(r.room, 3) <> 'dm:'
              OR ($2::text IS NOT NULL AND strpos(r.room || ':', ':' || $2 || ':') > 0))
       ORDER BY r.room LIMIT $3`,
      [afterRoom ?? null, dmsOf ?? null, limit],
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

  tokenAccount(tokenHash: string, nowMs: number): Promise<TokenOwner | undefined> {
    return this.#query(
      `SELECT a.user_id, a.username, a.name_key, a.password_hash, a.created_ms, t.expires_ms
       FROM ${this.#s}.tokens AS t JOIN ${this.#s}.accounts AS a ON a.user_id = t.user_id
       WHERE t.token_hash = $1 AND t.expires_ms > $2`,
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

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await Promise.allSettled([...this.#calls]);
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

  #nextGroup(lane: { waiting: PendingAppend[]; grouping: boolean }): void {
    if (lane.grouping || lane.waiting.length === 0) return;
    lane.grouping = true;
    const group = lane.waiting;
    lane.waiting = [];
    void this.#commit(group).finally(() => {
      lane.grouping = false;
      this.#nextGroup(lane);
    });
  }

  async #commit(group: PendingAppend[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      for (const call of group) call.reject(error);
      return;
    }
    const timeMs = this.#now();
    let broken: unknown;
    try {
      let results: AppendResult[] | undefined;
      try {
        results = await this.#appendAll(
          client,
          group.flatMap((call) => call.messages),
          timeMs,
        );
      } catch (error) {
        if (isTransient(error)) throw error;
      }
      if (results) {
        let next = 0;
        for (const call of group) {
          call.resolve(results.slice(next, next + call.messages.length));
          next += call.messages.length;
        }
        return;
      }
      // Something in the group cannot be stored: each call on its own, so
      // that a call that fails fails alone.
      for (const call of group) {
        try {
          call.resolve(
            await retryOnceIfRaced(() => this.#appendAll(client, call.messages, timeMs)),
          );
        } catch (error) {
          if (isTransient(error)) throw error;
          call.reject(error);
        }
      }
    } catch (error) {
      broken = error;
      // Calls already answered keep their answer.
      for (const call of group) call.reject(error);
    } finally {
      client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
    }
  }

  /** Stores `messages` in one statement (so one commit), or none of them. */
  async #appendAll(
    client: pg.PoolClient,
    messages: readonly NewMessage[],
    timeMs: number,
  ): Promise<AppendResult[]> {
    const column = (pick: (message: NewMessage) => string) => messages.map(pick);
    const values = [
      column((m) => m.room),
      column((m) => m.userId),
      column((m) => m.username),
      column((m) => m.text),
      column((m) => m.kind),
      column((m) => m.clientMsgId),
      timeMs,
    ];
    // Prepared once per connection: the statement is parsed and planned once.
    const { rows } = await client.query({ name: this.#appendName, text: this.#appendSql, values });
    if (rows.length !== messages.length) {
      throw new Error(`PostgreSQL answered ${rows.length} rows for ${messages.length} messages.`);
    }
    return rows.map((row) => ({ message: toMessage(row), duplicate: row.duplicate === true }));
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
      if (through > 0) {
        await client.query(
          `UPDATE ${this.#s}.rooms SET pruned_through = greatest(pruned_through, $2) WHERE room = $1`,
          [room, through],
        );
      }
      await client.query("COMMIT");
      return deleted.rowCount ?? 0;
    } catch (error) {
      broken = error;
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken instanceof Error && isTransient(broken) ? broken : undefined);
    }
  }
}

function toMessage(row: pg.QueryResultRow): StoredMessage {
  return {
    room: String(row.room),
    id: Number(row.id),
    timeMs: Number(row.time_ms),
    userId: String(row.user_id),
    username: String(row.username),
    text: String(row.text),
    kind: String(row.kind) as MessageKind,
    clientMsgId: String(row.client_msg_id),
  };
}

function toAccount(row: pg.QueryResultRow): Account {
  return {
    userId: String(row.user_id),
    username: String(row.username),
    nameKey: String(row.name_key),
    passwordHash: String(row.password_hash),
    createdMs: Number(row.created_ms),
  };
}

const UNIQUE_VIOLATION = "23505";

/** A room's lane: the same room always in the same lane. */
function laneOf(room: string, lanes: number): number {
  let hash = 0;
  for (let i = 0; i < room.length; i++) hash = (hash * 31 + room.charCodeAt(i)) | 0;
  return Math.abs(hash) % lanes;
}

/**
 * The same send committed by another node after this statement began (both
 * read no duplicate, then the unique index refused the second): a new
 * statement sees it, and answers it as the duplicate it is.
 */
function isRace(error: unknown): boolean {
  return (error as { code?: unknown }).code === UNIQUE_VIOLATION;
}

async function retryOnceIfRaced<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isRace(error)) throw error;
    return work();
  }
}

/**
 * Whether trying again later may work: the server cannot be reached, is
 * shutting down or out of resources, or the connection broke. Anything else
 * (a constraint, a bad value) fails the same way every time.
 */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^(08|53|57P|40001|40P01)/.test(code)) return true;
    if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) {
      return true;
    }
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
    error.message,
  );
}

function unavailableIfTransient(error: unknown, url?: string): unknown {
  if (error instanceof StoreUnavailableError || !isTransient(error)) return error;
  const where = url ? ` at ${new URL(url).host}` : "";
  return new StoreUnavailableError(
    `PostgreSQL${where} did not answer (${(error as Error).message}); the call stored nothing and can be retried.`,
    { cause: error },
  );
}
