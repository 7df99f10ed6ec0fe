import { AdminCalls } from "./admin-calls.ts";
import type {
  Account,
  BotCursor,
  BotRecord,
  IntegrationStore,
  MessageId,
  NotifyLevel,
  RoomId,
  UserId,
} from "./store.ts";

export type IntegrationMethod = keyof IntegrationStore;

/** One IntegrationStore call as data: what crosses to the SQLite worker. */
export type IntegrationCall = {
  [M in IntegrationMethod]: {
    readonly method: M;
    readonly args: Parameters<IntegrationStore[M]>;
  };
}[IntegrationMethod];

export type IntegrationResult<M extends IntegrationMethod> = Awaited<
  ReturnType<IntegrationStore[M]>
>;

/** IntegrationStore with every method answering at once, as SQL on the worker's connection does. */
export type SyncIntegration = {
  [M in IntegrationMethod]: (...args: Parameters<IntegrationStore[M]>) => IntegrationResult<M>;
};

/**
 * Every IntegrationStore method as one call of `integration`, beside
 * AdminCalls' `admin` and GovernanceCalls' `governance`, so a store forwards
 * each interface in one place instead of a method each.
 */
export abstract class IntegrationCalls extends AdminCalls implements IntegrationStore {
  protected abstract integration<M extends IntegrationMethod>(
    method: M,
    args: Parameters<IntegrationStore[M]>,
  ): Promise<IntegrationResult<M>>;

  createBot(account: Account, bot: BotRecord, cursors: readonly BotCursor[]): Promise<boolean> {
    return this.integration("createBot", [account, bot, cursors]);
  }

  bot(userId: UserId): Promise<BotRecord | undefined> {
    return this.integration("bot", [userId]);
  }

  botByToken(tokenHash: string): Promise<BotRecord | undefined> {
    return this.integration("botByToken", [tokenHash]);
  }

  bots(ownerId: UserId | undefined): Promise<BotRecord[]> {
    return this.integration("bots", [ownerId]);
  }

  outgoingBots(): Promise<BotRecord[]> {
    return this.integration("outgoingBots", []);
  }

  setBotToken(
    userId: UserId,
    tokenHash: string,
    revokedMs: number,
  ): Promise<BotRecord | undefined> {
    return this.integration("setBotToken", [userId, tokenHash, revokedMs]);
  }

  botCursors(userId: UserId): Promise<BotCursor[]> {
    return this.integration("botCursors", [userId]);
  }

  advanceBotCursor(userId: UserId, room: RoomId, deliveredId: MessageId): Promise<void> {
    return this.integration("advanceBotCursor", [userId, room, deliveredId]);
  }

  leaseBot(userId: UserId, node: string, nowMs: number, leaseMs: number): Promise<boolean> {
    return this.integration("leaseBot", [userId, node, nowMs, leaseMs]);
  }

  setBotError(userId: UserId, error: string, atMs: number): Promise<void> {
    return this.integration("setBotError", [userId, error, atMs]);
  }

  setNotify(userId: UserId, room: RoomId, level: NotifyLevel): Promise<void> {
    return this.integration("setNotify", [userId, room, level]);
  }

  notifyLevels(userId: UserId): Promise<ReadonlyMap<RoomId, NotifyLevel>> {
    return this.integration("notifyLevels", [userId]);
  }

  notifyLevelsIn(
    room: RoomId,
    userIds: readonly UserId[],
  ): Promise<ReadonlyMap<UserId, NotifyLevel>> {
    return this.integration("notifyLevelsIn", [room, userIds]);
  }

  setEmail(userId: UserId, email: string): Promise<void> {
    return this.integration("setEmail", [userId, email]);
  }

  emailOf(userId: UserId): Promise<string> {
    return this.integration("emailOf", [userId]);
  }

  scheduleDigest(userId: UserId, dueMs: number): Promise<void> {
    return this.integration("scheduleDigest", [userId, dueMs]);
  }

  takeDueDigests(nowMs: number, limit: number): Promise<UserId[]> {
    return this.integration("takeDueDigests", [nowMs, limit]);
  }

  nextDigestMs(): Promise<number | undefined> {
    return this.integration("nextDigestMs", []);
  }
}

/** Runs `call` on `target`; the name is checked first, as it may have crossed a thread. */
export function dispatchIntegration(
  target: SyncIntegration | IntegrationStore,
  call: IntegrationCall,
): unknown {
  const name: string = call.method;
  if (name === "constructor" || !Object.hasOwn(IntegrationCalls.prototype, name)) {
    throw new TypeError(`${name} is not an IntegrationStore method`);
  }
  const method = target[call.method] as (...args: readonly unknown[]) => unknown;
  return method.apply(target, call.args);
}
