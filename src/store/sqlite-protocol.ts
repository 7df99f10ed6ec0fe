// What the main thread and the SQLite worker say to each other. Everything
// here crosses postMessage, so it is plain data: errors travel as WireError
// and are rebuilt on the other side.
import type { AdminCall } from "./admin-calls.ts";
import type { GovernanceCall } from "./governance-calls.ts";
import type { IntegrationCall } from "./integration-calls.ts";
import type { SearchIndexProgress } from "./sqlite-search-backfill.ts";
import type { UnreadRoom } from "./sqlite-unread.ts";
import {
  type Account,
  type AfterPage,
  type AppendResult,
  ChangeTargetError,
  type HistoryOptions,
  ImportConflictError,
  type MessageId,
  type NewMessage,
  type RetentionPolicy,
  type RoomId,
  type RoomSummary,
  type SearchQuery,
  type Store,
  type StoredMessage,
  type TokenOwner,
  type TokenRecord,
  type UnreadCount,
  type UserId,
} from "./store.ts";

/** The worker's `workerData`. */
export interface WorkerInput {
  readonly path: string;
  readonly durability: "full" | "normal";
  readonly maxPageCount: number | undefined;
  /** The open's time, recorded with the migrations it applies. */
  readonly nowMs: number;
}

/**
 * The worker's first message: the database is open (and locked), or why not;
 * with `searchIndex` when messages stored before search are being indexed.
 */
export type OpenReply =
  | {
      readonly type: "ready";
      readonly epoch: string;
      readonly idKey: string;
      readonly searchIndex?: SearchIndexProgress;
    }
  | { readonly type: "failed"; readonly error: WireError };

export type Request =
  | {
      readonly id: number;
      readonly op: "append";
      /** Every message of the group gets this time. */
      readonly timeMs: number;
      /** One entry per append() call, each all-or-nothing. */
      readonly calls: readonly (readonly NewMessage[])[];
    }
  | {
      readonly id: number;
      readonly op: "history";
      readonly room: RoomId;
      readonly options: HistoryOptions;
    }
  | {
      readonly id: number;
      readonly op: "after";
      readonly room: RoomId;
      readonly afterId: MessageId;
      readonly limit: number;
      readonly includeSystem: boolean;
    }
  | {
      readonly id: number;
      readonly op: "message";
      readonly room: RoomId;
      readonly messageId: MessageId;
      readonly viewer: UserId | undefined;
    }
  | { readonly id: number; readonly op: "lastId"; readonly room: RoomId }
  | {
      readonly id: number;
      readonly op: "markRead";
      readonly userId: UserId;
      readonly room: RoomId;
      readonly lastReadId: MessageId;
    }
  | {
      readonly id: number;
      readonly op: "readMarker";
      readonly userId: UserId;
      readonly room: RoomId;
    }
  | {
      readonly id: number;
      readonly op: "unread";
      readonly userId: UserId;
      readonly rooms: readonly UnreadRoom[];
      readonly cap: number;
      readonly mentionNames: readonly string[];
    }
  | {
      readonly id: number;
      readonly op: "prune";
      readonly policy: RetentionPolicy;
      /** Tokens that expire at or before this time are deleted too. */
      readonly nowMs: number;
    }
  | {
      readonly id: number;
      readonly op: "listRooms";
      readonly options: Parameters<Store["listRooms"]>[0];
    }
  | { readonly id: number; readonly op: "search"; readonly query: SearchQuery }
  | { readonly id: number; readonly op: "setTopic"; readonly room: RoomId; readonly topic: string }
  | { readonly id: number; readonly op: "topic"; readonly room: RoomId }
  | { readonly id: number; readonly op: "createAccount"; readonly account: Account }
  | { readonly id: number; readonly op: "accountByName"; readonly nameKey: string }
  | { readonly id: number; readonly op: "accountById"; readonly userId: string }
  | { readonly id: number; readonly op: "saveToken"; readonly token: TokenRecord }
  | {
      readonly id: number;
      readonly op: "tokenAccount";
      readonly tokenHash: string;
      readonly nowMs: number;
    }
  | { readonly id: number; readonly op: "revokeToken"; readonly tokenHash: string }
  /** Any GovernanceStore method: one op for them all, dispatched by name. */
  | { readonly id: number; readonly op: "governance"; readonly call: GovernanceCall }
  /** Any AdminStore method, the same way; a backup is answered once its copy is done. */
  | { readonly id: number; readonly op: "admin"; readonly call: AdminCall }
  /** Any IntegrationStore method, the same way. */
  | { readonly id: number; readonly op: "integration"; readonly call: IntegrationCall }
  | { readonly id: number; readonly op: "close" };

/** What each op resolves with. */
export interface Results {
  append: WireGroupOutcome;
  history: StoredMessage[];
  after: AfterPage;
  message: StoredMessage | undefined;
  lastId: MessageId;
  markRead: MessageId;
  readMarker: MessageId;
  unread: UnreadCount[];
  prune: number;
  listRooms: RoomSummary[];
  search: StoredMessage[];
  setTopic: undefined;
  topic: string;
  createAccount: boolean;
  accountByName: Account | undefined;
  accountById: Account | undefined;
  saveToken: undefined;
  tokenAccount: TokenOwner | undefined;
  revokeToken: boolean;
  /** What the GovernanceStore method resolves with (GovernanceResult of the call's method). */
  governance: unknown;
  /** What the AdminStore method resolves with (AdminResult of the call's method). */
  admin: unknown;
  /** What the IntegrationStore method resolves with (IntegrationResult of the call's method). */
  integration: unknown;
  close: undefined;
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** Only the fields a SearchQuery has: anything else on the caller's object might not clone. */
export function crossingQuery(query: SearchQuery): SearchQuery {
  const { reader, admin, nowMs, include, exclude, limit, rooms, senders } = query;
  const { afterMs, beforeMs, hasLink, after, oldestFirst } = query;
  return {
    reader,
    admin,
    nowMs,
    include,
    exclude,
    limit,
    ...(rooms ? { rooms } : {}),
    ...(senders ? { senders } : {}),
    ...(afterMs !== undefined ? { afterMs } : {}),
    ...(beforeMs !== undefined ? { beforeMs } : {}),
    ...(hasLink ? { hasLink } : {}),
    ...(after ? { after: { timeMs: after.timeMs, room: after.room, id: after.id } } : {}),
    ...(oldestFirst ? { oldestFirst } : {}),
  };
}

/**
 * Sent by the worker on its own, between replies: how indexing the messages
 * stored before search goes (see SearchBackfill), or why it stopped.
 */
export type SearchIndexReport =
  | { readonly type: "searchIndex"; readonly progress: SearchIndexProgress }
  | { readonly type: "searchIndexFailed"; readonly error: WireError };

export type CallOutcome<E = WireError> =
  | { readonly ok: true; readonly results: AppendResult[] }
  | { readonly ok: false; readonly error: E };

/**
 * An append's results as they travel back: a new message as its id (the main
 * thread has the rest of it, and the time); a repeat, or a change entry, as
 * its whole result. Most of what a group sends back is then a few numbers.
 */
export type WireCallOutcome =
  | { readonly ok: true; readonly refs: (MessageId | AppendResult)[] }
  | { readonly ok: false; readonly error: WireError };

export interface WireGroupOutcome {
  readonly committed: boolean;
  readonly calls: WireCallOutcome[];
}

export interface GroupOutcome<E = WireError> {
  /** Whether the group's transaction committed (false: every call failed). */
  readonly committed: boolean;
  /** In the order of the request's calls. */
  readonly calls: CallOutcome<E>[];
}

/** Enough of an error to rebuild it: node:sqlite's errors carry errcode and errstr. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly code: string | undefined;
  /** SQLite's extended result code; the primary code is `errcode & 0xff`. */
  readonly errcode: number | undefined;
  readonly errstr: string | undefined;
  /** A ChangeTargetError's fields. */
  readonly change?: { readonly reason: "missing" | "deleted"; readonly targetId: MessageId };
  /** An ImportConflictError's room. */
  readonly importConflict?: { readonly room: RoomId };
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) {
    return { name: "Error", message: String(error), stack: undefined, ...noSqlite };
  }
  const fields = error as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  const change =
    error instanceof ChangeTargetError
      ? { change: { reason: error.reason, targetId: error.targetId } }
      : {};
  const conflict =
    error instanceof ImportConflictError ? { importConflict: { room: error.room } } : {};
  return {
    ...change,
    ...conflict,
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: typeof fields.code === "string" ? fields.code : undefined,
    errcode: typeof fields.errcode === "number" ? fields.errcode : undefined,
    errstr: typeof fields.errstr === "string" ? fields.errstr : undefined,
  };
}

const noSqlite = { code: undefined, errcode: undefined, errstr: undefined } as const;

/** The error as the worker saw it, with its properties and the worker's stack. */
export function fromWireError(wire: WireError): Error {
  if (wire.change) return new ChangeTargetError(wire.change.reason, wire.change.targetId);
  if (wire.importConflict) return new ImportConflictError(wire.importConflict.room);
  const error =
    wire.name === "TypeError"
      ? new TypeError(wire.message)
      : wire.name === "RangeError"
        ? new RangeError(wire.message)
        : new Error(wire.message);
  if (error.name !== wire.name) error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  const { code, errcode, errstr } = wire;
  // Only what was there: a plain Error stays free of undefined sqlite fields.
  Object.assign(
    error,
    code === undefined ? {} : { code },
    errcode === undefined ? {} : { errcode },
    errstr === undefined ? {} : { errstr },
  );
  return error;
}
