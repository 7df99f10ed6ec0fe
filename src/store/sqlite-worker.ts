// The SQLite worker thread: owns the store's only connection and runs all of
// its SQL, one task at a time, in the order requests arrive. Started by
// openSqliteStore (sqlite-store.ts) with a WorkerInput as workerData.
import { parentPort, workerData } from "node:worker_threads";
import type { BackupTurns } from "./sqlite-backup.ts";
import { type MessageDatabase, openDatabase } from "./sqlite-database.ts";
import {
  type OpenReply,
  type Reply,
  type Request,
  type SearchIndexReport,
  toWireError,
  type WireGroupOutcome,
} from "./sqlite-protocol.ts";
import type { PruneJob } from "./sqlite-prune.ts";
import type { SearchIndexProgress } from "./sqlite-search-backfill.ts";
import { CHANGE_KINDS } from "./store.ts";

if (!parentPort) throw new Error("sqlite-worker.ts runs only as a worker thread");
const port = parentPort;

const queue: (() => void)[] = [];
let scheduled = false;
// Backups under way: while one is, its steps decide when requests run (see BackupTurns).
let holds = 0;
// Prunes still under way, so close() can end them.
const prunes = new Map<PruneJob, (removed: number) => void>();
// Calls answered later (backups), which close() waits for: the connection
// they copy from must stay open until they finish.
const pending = new Set<Promise<void>>();
// Cleared by close(), so no batch of search indexing runs after it.
let indexing = false;

function enqueue(task: () => void): void {
  queue.push(task);
  schedule();
}

// One task per turn of the event loop: messages that arrived while a task ran
// are queued (in the poll phase) before the next task starts.
function schedule(): void {
  if (scheduled || holds > 0 || queue.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    queue.shift()?.();
    schedule();
  });
}

function reply(id: number, run: () => unknown): void {
  let message: Reply;
  try {
    message = { id, ok: true, value: run() };
  } catch (error) {
    message = { id, ok: false, error: toWireError(error) };
  }
  port.postMessage(message);
}

function fail(id: number, error: unknown): void {
  port.postMessage({ id, ok: false, error: toWireError(error) } satisfies Reply);
}

/** An admin call; one that answers with a promise runs on while later requests are served. */
function admin(db: MessageDatabase, request: Extract<Request, { op: "admin" }>): void {
  let value: unknown;
  try {
    value = db.admin.run(request.call);
  } catch (error) {
    fail(request.id, error);
    return;
  }
  if (!(value instanceof Promise)) {
    port.postMessage({ id: request.id, ok: true, value } satisfies Reply);
    return;
  }
  const settled: Promise<void> = value.then(
    (result: unknown) =>
      port.postMessage({ id: request.id, ok: true, value: result } satisfies Reply),
    (error: unknown) => fail(request.id, error),
  );
  pending.add(settled);
  const forget = () => pending.delete(settled);
  settled.then(forget, forget);
}

function close(db: MessageDatabase, id: number): void {
  reply(id, () => db.close());
  // Without a listener the port lets the thread end once the reply is out.
  port.off("message", onMessage);
}

function prune(db: MessageDatabase, request: Extract<Request, { op: "prune" }>): void {
  let job: PruneJob;
  try {
    db.deleteExpiredTokens(request.nowMs);
    job = db.startPrune(request.policy);
  } catch (error) {
    fail(request.id, error);
    return;
  }
  const finish = (removed: number) => {
    prunes.delete(job);
    port.postMessage({ id: request.id, ok: true, value: removed } satisfies Reply);
  };
  prunes.set(job, finish);
  const step = () => {
    if (!prunes.has(job)) return; // ended by close
    let done: boolean;
    try {
      done = db.pruneStep(job);
    } catch (error) {
      prunes.delete(job);
      fail(request.id, error);
      return;
    }
    if (done) finish(job.removed);
    // Re-queued on the next turn, behind whatever arrived during this batch.
    else setImmediate(() => enqueue(step));
  };
  step();
}

/**
 * Indexes the messages stored before search, a batch per task, queued behind
 * whatever arrived meanwhile (as prune does); `from` is where it stood at
 * open. Reports at each whole percent, and at the end.
 */
function indexForSearch(db: MessageDatabase, from: SearchIndexProgress): void {
  indexing = true;
  let reported = percent(from);
  const step = () => {
    if (!indexing) return;
    let next: SearchIndexProgress | undefined;
    try {
      next = db.searchBackfill.step();
    } catch (error) {
      indexing = false;
      report({ type: "searchIndexFailed", error: toWireError(error) });
      return;
    }
    if (!next) return;
    if (next.finished || percent(next) > reported) {
      reported = percent(next);
      report({ type: "searchIndex", progress: next });
    }
    if (next.finished) indexing = false;
    else setImmediate(() => enqueue(step));
  };
  enqueue(step);
}

function percent(progress: SearchIndexProgress): number {
  return progress.total === 0 ? 100 : Math.floor((progress.done * 100) / progress.total);
}

function report(message: SearchIndexReport): void {
  port.postMessage(message);
}

function handle(db: MessageDatabase, request: Request): void {
  switch (request.op) {
    case "append":
      reply(request.id, () => {
        const outcome = db.appendGroup(request.calls, request.timeMs);
        return {
          committed: outcome.committed,
          calls: outcome.calls.map((call) =>
            call.ok
              ? {
                  ok: true,
                  refs: call.results.map((r) =>
                    r.duplicate || r.unchanged || CHANGE_KINDS.has(r.message.kind)
                      ? r
                      : r.message.id,
                  ),
                }
              : { ok: false, error: toWireError(call.error) },
          ),
        } satisfies WireGroupOutcome;
      });
      break;
    case "history":
      reply(request.id, () => db.history(request.room, request.options));
      break;
    case "after":
      reply(request.id, () =>
        db.after(request.room, request.afterId, request.limit, request.includeSystem),
      );
      break;
    case "message":
      reply(request.id, () => db.message(request.room, request.messageId, request.viewer));
      break;
    case "lastId":
      reply(request.id, () => db.lastId(request.room));
      break;
    case "markRead":
      reply(request.id, () => db.markRead(request.userId, request.room, request.lastReadId));
      break;
    case "readMarker":
      reply(request.id, () => db.readMarker(request.userId, request.room));
      break;
    case "unread":
      reply(request.id, () =>
        db.unread(request.userId, request.rooms, request.cap, request.mentionNames),
      );
      break;
    case "prune":
      prune(db, request);
      break;
    case "listRooms":
      reply(request.id, () => db.listRooms(request.options));
      break;
    case "search":
      reply(request.id, () => db.search.search(request.query));
      break;
    case "setTopic":
      reply(request.id, () => db.setTopic(request.room, request.topic));
      break;
    case "topic":
      reply(request.id, () => db.topic(request.room));
      break;
    case "createAccount":
      reply(request.id, () => db.createAccount(request.account));
      break;
    case "accountByName":
      reply(request.id, () => db.accountByName(request.nameKey));
      break;
    case "accountById":
      reply(request.id, () => db.accountById(request.userId));
      break;
    case "saveToken":
      reply(request.id, () => db.saveToken(request.token));
      break;
    case "tokenAccount":
      reply(request.id, () => db.tokenAccount(request.tokenHash, request.nowMs));
      break;
    case "revokeToken":
      reply(request.id, () => db.revokeToken(request.tokenHash));
      break;
    case "governance":
      reply(request.id, () => db.governance.run(request.call));
      break;
    case "admin":
      admin(db, request);
      break;
    case "integration":
      reply(request.id, () => db.integrations.run(request.call));
      break;
    case "close":
      // Shutdown does not wait for retention: a prune ends after its current
      // batch and reports what it removed. A backup is waited for. Search
      // indexing stops after its batch; the next open continues it.
      indexing = false;
      for (const [job, finish] of prunes) finish(job.removed);
      if (pending.size === 0) close(db, request.id);
      else void Promise.allSettled(pending).then(() => close(db, request.id));
      break;
  }
}

const turns: BackupTurns = {
  hold(copy) {
    holds++;
    const release = () => {
      holds--;
      schedule();
    };
    copy.then(release, release);
  },
  runQueued() {
    for (let n = queue.length; n > 0; n--) queue.shift()?.();
  },
};

// Set once the database is open; close() takes it off again.
let onMessage: (request: Request) => void = () => {};

function main(): void {
  let db: MessageDatabase | undefined;
  let searchIndex: SearchIndexProgress | undefined;
  try {
    db = openDatabase(workerData, turns);
    searchIndex = db.searchBackfill.start();
  } catch (error) {
    db?.close();
    port.postMessage({ type: "failed", error: toWireError(error) } satisfies OpenReply);
    return;
  }
  const open = db;
  onMessage = (request) => enqueue(() => handle(open, request));
  port.on("message", onMessage);
  port.postMessage({
    type: "ready",
    epoch: open.epoch,
    idKey: open.idKey,
    ...(searchIndex ? { searchIndex } : {}),
  } satisfies OpenReply);
  if (searchIndex) indexForSearch(open, searchIndex);
}

main();
