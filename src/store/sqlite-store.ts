import { Worker } from "node:worker_threads";
import type { AdminCall, AdminMethod, AdminResult } from "./admin-calls.ts";
import type { GovernanceCall, GovernanceMethod, GovernanceResult } from "./governance-calls.ts";
import { GroupCommit, type WaitingAppend } from "./group-commit.ts";
import {
  type IntegrationCall,
  IntegrationCalls,
  type IntegrationMethod,
  type IntegrationResult,
} from "./integration-calls.ts";
import { storedMessage } from "./rows.ts";
import { closedError, openError, storeError, workerStoppedError } from "./sqlite-errors.ts";
import {
  crossingQuery,
  type OpenReply,
  type Reply,
  type Request,
  type Results,
  type SearchIndexReport,
  type WorkerInput,
} from "./sqlite-protocol.ts";
import type { SearchIndexProgress } from "./sqlite-search-backfill.ts";
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
import { checkMarker, checkUnreadOptions } from "./store-arguments.ts";

export {
  describeSearchIndexProgress,
  type SearchIndexProgress,
} from "./sqlite-search-backfill.ts";

/** The shortest time between two groups sent to the worker, in ms (the default). */
const GROUP_INTERVAL_MS = 1;

export interface SqliteStoreOptions {
  /** A file path (its directory is created) or ":memory:". */
  readonly path: string;
  /** The clock for message times, ms since the Unix epoch. Default Date.now. */
  readonly now?: () => number;
  /**
   * "full" (default): a commit survives power loss (PRAGMA synchronous=FULL).
   * "normal": it survives a crash of this process but the last commits may be
   * lost on power loss.
   */
  readonly durability?: "full" | "normal";
  /**
   * Caps the database at this many pages (PRAGMA max_page_count; 4096 bytes
   * each by default), past which appends fail as "full". Unlimited by default;
   * it exists so tests can meet a real SQLITE_FULL. A cap below the file's
   * current size leaves it at that size.
   */
  readonly maxPageCount?: number;
  /**
   * The shortest time between two groups of appends sent to the worker, in
   * ms. Default 1: under load appends share a round trip; an idle append goes
   * at once. 0 sends each event-loop turn's appends at once (for tests).
   */
  readonly groupIntervalMs?: number;
  /**
   * A database from before search is indexed after it opens, in batches
   * between other work (messages written meanwhile are indexed at once).
   * Called at the start (before openSqliteStore resolves), at each whole
   * percent and at the end (`finished`); describeSearchIndexProgress words
   * it for a log. Not called for a database that needs none.
   */
  readonly onSearchIndexProgress?: (progress: SearchIndexProgress) => void;
  /** Indexing stopped on this error; searches find what was indexed, and the next open continues. */
  readonly onSearchIndexError?: (error: Error) => void;
}

type SearchIndexHooks = Pick<SqliteStoreOptions, "onSearchIndexProgress" | "onSearchIndexError">;

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;
type Op = Request["op"];

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Opens the store: starts its worker thread, which opens the file, locks it
 * for this process alone and applies any pending migrations. Rejects with a
 * StoreUnavailableError when another process (or another store in this one)
 * has the file, and with a plain Error when a newer server wrote it.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const durability = options.durability ?? "full";
  if (durability !== "full" && durability !== "normal") {
    throw new RangeError(`durability must be "full" or "normal", not ${String(durability)}`);
  }
  const { maxPageCount } = options;
  if (maxPageCount !== undefined && !(Number.isInteger(maxPageCount) && maxPageCount > 0)) {
    throw new RangeError(`maxPageCount must be a positive integer, not ${maxPageCount}`);
  }
  const now = options.now ?? Date.now;
  const input: WorkerInput = { path: options.path, durability, maxPageCount, nowMs: now() };
  const worker = new Worker(new URL("./sqlite-worker.ts", import.meta.url), { workerData: input });
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  let reply: OpenReply;
  try {
    reply = await firstMessage(worker);
  } catch (error) {
    await worker.terminate();
    throw workerStoppedError(options.path, error);
  }
  if (reply.type === "failed") {
    // Once the thread is gone its connection, and any lock, is too.
    await exited;
    throw openError(reply.error, options.path);
  }
  const { onSearchIndexProgress, onSearchIndexError } = options;
  const store = new SqliteStore(
    worker,
    exited,
    reply.epoch,
    reply.idKey,
    options.path,
    now,
    options.groupIntervalMs ?? GROUP_INTERVAL_MS,
    { onSearchIndexProgress, onSearchIndexError },
  );
  if (reply.searchIndex) onSearchIndexProgress?.(reply.searchIndex);
  return store;
}

function firstMessage(worker: Worker): Promise<OpenReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: OpenReply) => settle(() => resolve(reply));
    const onError = (error: Error) => settle(() => reject(error));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`the worker thread exited with code ${code} while opening`)));
    const settle = (then: () => void) => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      then();
    };
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  });
}

/**
 * The SQLite store: every statement runs on a worker thread that owns the
 * file's only connection, so the event loop never waits for SQL or fsync.
 * Appends that arrive while a commit is in flight, or within
 * `groupIntervalMs` of the last group, are committed together as the next
 * group, in one transaction with one time; each call still succeeds or fails
 * on its own. Made by `openSqliteStore`.
 */
export class SqliteStore extends IntegrationCalls implements Store {
  readonly epoch: string;
  readonly idKey: string;
  /** The database file, or ":memory:". */
  readonly path: string;
  readonly #worker: Worker;
  readonly #now: () => number;
  readonly #requests = new Map<number, Pending>();
  #nextRequestId = 1;
  // A round trip to the worker costs far more than the SQL of one message
  // (measured here: ~70 us of CPU against ~10), so under load appends must
  // share it: a group goes at most every groupIntervalMs.
  readonly #appends: GroupCommit;
  #commits = 0;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;
  // Set when the worker ended without being asked to: every call fails with it.
  #stopped: Error | undefined;
  #workerError: unknown;
  readonly #exited: Promise<void>;
  readonly #searchIndex: SearchIndexHooks;

  /** Use `openSqliteStore`; this takes a worker that has opened the database. */
  constructor(
    worker: Worker,
    exited: Promise<number>,
    epoch: string,
    idKey: string,
    path: string,
    now: () => number,
    groupIntervalMs = GROUP_INTERVAL_MS,
    searchIndex: SearchIndexHooks = {},
  ) {
    super();
    this.#searchIndex = searchIndex;
    this.#worker = worker;
    this.#appends = new GroupCommit({
      commit: (group) => this.#commitGroup(group),
      intervalMs: groupIntervalMs,
    });
    this.epoch = epoch;
    this.idKey = idKey;
    this.path = path;
    this.#now = now;
    worker.on("message", (message: Reply | SearchIndexReport) =>
      "type" in message ? this.#onSearchIndex(message) : this.#onReply(message),
    );
    worker.on("error", (error) => {
      this.#workerError = error;
    });
    this.#exited = exited.then((code) => this.#onExit(code));
    this.#updateRef();
  }

  /** Append transactions committed since open, one per group; for tests and metrics. */
  get commits(): number {
    return this.#commits;
  }

  append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    const refused = this.#refusal();
    if (refused) return Promise.reject(refused);
    if (messages.length === 0) return Promise.resolve([]);
    return this.#appends.append(messages);
  }

  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]> {
    return this.#call({ op: "history", room, options });
  }

  after(room: RoomId, afterId: MessageId, limit: number, includeSystem = true): Promise<AfterPage> {
    return this.#call({ op: "after", room, afterId, limit, includeSystem });
  }

  message(room: RoomId, id: MessageId, viewer?: UserId): Promise<StoredMessage | undefined> {
    return this.#call({ op: "message", room, messageId: id, viewer });
  }

  lastId(room: RoomId): Promise<MessageId> {
    return this.#call({ op: "lastId", room });
  }

  markRead(userId: UserId, room: RoomId, lastReadId: MessageId): Promise<MessageId> {
    const refused = checkMarker(lastReadId);
    if (refused) return Promise.reject(refused);
    return this.#call({ op: "markRead", userId, room, lastReadId });
  }

  readMarker(userId: UserId, room: RoomId): Promise<MessageId> {
    return this.#call({ op: "readMarker", userId, room });
  }

  unread(
    userId: UserId,
    rooms: readonly RoomId[],
    options: Parameters<Store["unread"]>[2],
  ): Promise<UnreadCount[]> {
    const refused = checkUnreadOptions(options);
    if (refused) return Promise.reject(refused);
    const { cap, mentionNames, fromStart } = options;
    return this.#call({
      op: "unread",
      userId,
      rooms: rooms.map((room) => ({ room, fromStart: fromStart.has(room) })),
      cap,
      mentionNames: [...mentionNames],
    });
  }

  /**
   * Removes up to 500 messages per transaction; appends and reads that
   * arrive meanwhile run between those transactions. Each room is pruned
   * from its oldest message up to the first one the policy keeps, and its
   * `prunedThrough` raised to match. Rooms that get their first message
   * after the prune began are left alone. Expired tokens go first, in one
   * statement.
   */
  prune(policy: RetentionPolicy): Promise<number> {
    const { maxPerRoom, olderThanMs } = policy;
    if (maxPerRoom !== undefined && !(Number.isInteger(maxPerRoom) && maxPerRoom >= 0)) {
      return Promise.reject(
        new RangeError(`maxPerRoom must be an integer >= 0, not ${maxPerRoom}`),
      );
    }
    if (olderThanMs !== undefined && !Number.isFinite(olderThanMs)) {
      return Promise.reject(
        new RangeError(`olderThanMs must be a finite number, not ${olderThanMs}`),
      );
    }
    return this.#call({ op: "prune", policy: { maxPerRoom, olderThanMs }, nowMs: this.#now() });
  }

  listRooms(options: {
    readonly limit: number;
    readonly afterRoom?: RoomId;
    readonly dmsOf?: UserId;
  }): Promise<RoomSummary[]> {
    // Only these fields cross: anything else on the caller's object might not clone.
    const { limit, afterRoom, dmsOf } = options;
    return this.#call({ op: "listRooms", options: { limit, afterRoom, dmsOf } });
  }

  setTopic(room: RoomId, topic: string): Promise<void> {
    return this.#call({ op: "setTopic", room, topic });
  }

  topic(room: RoomId): Promise<string> {
    return this.#call({ op: "topic", room });
  }

  // Account calls go one by one, not grouped like appends: they are rare.

  createAccount(account: Account): Promise<boolean> {
    return this.#call({ op: "createAccount", account });
  }

  accountById(userId: string): Promise<Account | undefined> {
    return this.#call({ op: "accountById", userId });
  }

  accountByName(nameKey: string): Promise<Account | undefined> {
    return this.#call({ op: "accountByName", nameKey });
  }

  saveToken(token: TokenRecord): Promise<void> {
    return this.#call({ op: "saveToken", token });
  }

  tokenAccount(tokenHash: string, nowMs: number): Promise<TokenOwner | undefined> {
    return this.#call({ op: "tokenAccount", tokenHash, nowMs });
  }

  revokeToken(tokenHash: string): Promise<boolean> {
    return this.#call({ op: "revokeToken", tokenHash });
  }

  // Each GovernanceStore method is one request (see GovernanceCalls), run by
  // SqliteGovernance on the worker.
  protected override governance<M extends GovernanceMethod>(
    method: M,
    args: Parameters<GovernanceStore[M]>,
  ): Promise<GovernanceResult<M>> {
    const call = { method, args } as GovernanceCall;
    return this.#call({ op: "governance", call }) as Promise<GovernanceResult<M>>;
  }

  // Likewise each AdminStore method (see AdminCalls), run by SqliteAdmin.
  protected override admin<M extends AdminMethod>(
    method: M,
    args: Parameters<AdminStore[M]>,
  ): Promise<AdminResult<M>> {
    const call = { method, args } as AdminCall;
    return this.#call({ op: "admin", call }) as Promise<AdminResult<M>>;
  }

  // Likewise each IntegrationStore method (see IntegrationCalls), run by SqliteIntegrations.
  protected override integration<M extends IntegrationMethod>(
    method: M,
    args: Parameters<IntegrationStore[M]>,
  ): Promise<IntegrationResult<M>> {
    const call = { method, args } as IntegrationCall;
    return this.#call({ op: "integration", call }) as Promise<IntegrationResult<M>>;
  }

  /** One statement on the worker (see SqliteSearch), then the hits read as `message` reads them. */
  search(query: SearchQuery): Promise<StoredMessage[]> {
    const { limit } = query;
    if (!(Number.isInteger(limit) && limit > 0)) {
      return Promise.reject(new RangeError(`limit must be a positive integer, not ${limit}`));
    }
    return this.#call({ op: "search", query: crossingQuery(query) });
  }

  /**
   * Refuses new calls at once (StoreUnavailableError), lets every call made
   * before it finish, then closes the connection; resolves once the worker
   * thread has exited. A prune still running stops after its current batch
   * and resolves with what it removed; so does indexing for search, which the
   * next open continues. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      if (this.#state === "open") this.#state = "closing";
      this.#closing = this.#close();
    }
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#updateRef();
    await this.#appends.drain();
    let failure: unknown;
    try {
      await this.#request({ op: "close" });
    } catch (error) {
      failure = error;
    }
    await this.#exited;
    this.#state = "closed";
    // A worker that had already died has nothing left to close.
    if (failure !== undefined && failure !== this.#stopped) throw failure;
  }

  #refusal(): Error | undefined {
    if (this.#state !== "open") return closedError(this.#state);
    return this.#stopped;
  }

  #call<O extends Op>(body: Extract<WithoutId<Request>, { op: O }>): Promise<Results[O]> {
    const refused = this.#refusal();
    return refused ? Promise.reject(refused) : this.#request(body);
  }

  #request<O extends Op>(body: Extract<WithoutId<Request>, { op: O }>): Promise<Results[O]> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    const id = this.#nextRequestId++;
    return new Promise((resolve, reject) => {
      // Throws (before anything is sent) on a value that cannot be cloned.
      this.#worker.postMessage({ ...body, id });
      this.#requests.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#updateRef();
    });
  }

  // One group in one request, so one transaction; the worker answers for each call.
  async #commitGroup(group: WaitingAppend[]): Promise<void> {
    const timeMs = this.#now();
    const outcome = await this.#request({
      op: "append",
      timeMs,
      calls: group.map((call) => call.messages),
    });
    if (outcome.committed) this.#commits++;
    group.forEach((call, i) => {
      const result = outcome.calls[i];
      if (result?.ok) {
        try {
          call.resolve(expand(call.messages, result.refs, timeMs));
        } catch (error) {
          call.reject(error);
        }
      } else if (result) call.reject(storeError(result.error, this.path));
      else call.reject(new Error("the worker sent no outcome for this append"));
    });
  }

  #onReply(reply: Reply): void {
    const pending = this.#requests.get(reply.id);
    if (!pending) return;
    this.#requests.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(storeError(reply.error, this.path));
    this.#updateRef();
  }

  #onSearchIndex(report: SearchIndexReport): void {
    if (report.type === "searchIndex") this.#searchIndex.onSearchIndexProgress?.(report.progress);
    else this.#searchIndex.onSearchIndexError?.(storeError(report.error, this.path));
  }

  #onExit(code: number): void {
    if (this.#requests.size === 0 && this.#state !== "open") return; // the exit close() asked for
    this.#stopped = workerStoppedError(
      this.path,
      this.#workerError ?? new Error(`the worker thread exited with code ${code}`),
    );
    for (const pending of this.#requests.values()) pending.reject(this.#stopped);
    this.#requests.clear();
  }

  // An idle store does not keep the process alive; one with work in hand does.
  #updateRef(): void {
    const busy = this.#requests.size > 0 || this.#appends.waiting > 0 || this.#state === "closing";
    if (busy) this.#worker.ref();
    else this.#worker.unref();
  }
}

/** An append call's results from what the worker sent back (see WireCallOutcome). */
function expand(
  messages: readonly NewMessage[],
  refs: readonly (MessageId | AppendResult)[],
  timeMs: number,
): AppendResult[] {
  return messages.map((message, i) => {
    const ref = refs[i];
    if (typeof ref === "object") return ref;
    if (ref === undefined) throw new Error("the worker sent fewer results than messages");
    return { message: storedMessage(message, ref, timeMs), duplicate: false };
  });
}
