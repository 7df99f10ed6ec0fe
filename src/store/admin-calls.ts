import { GovernanceCalls } from "./governance-calls.ts";
import type {
  AccountListing,
  AdminStore,
  ExportedMessage,
  ExportedRoom,
  MessageId,
  RoomId,
  UserId,
} from "./store.ts";

export type AdminMethod = keyof AdminStore;

/** One AdminStore call as data: what crosses to the SQLite worker. */
export type AdminCall = {
  [M in AdminMethod]: { readonly method: M; readonly args: Parameters<AdminStore[M]> };
}[AdminMethod];

export type AdminResult<M extends AdminMethod> = Awaited<ReturnType<AdminStore[M]>>;

/**
 * AdminStore as SQL on one connection answers it: at once, except a backup,
 * which copies the file a step at a time while other calls go on.
 */
export type SyncAdmin = {
  [M in Exclude<AdminMethod, "backup">]: (...args: Parameters<AdminStore[M]>) => AdminResult<M>;
} & Pick<AdminStore, "backup">;

/**
 * Every AdminStore method as one call of `admin`, beside GovernanceCalls'
 * `governance`, so a store forwards both interfaces in two places instead of
 * a method each.
 */
export abstract class AdminCalls extends GovernanceCalls implements AdminStore {
  protected abstract admin<M extends AdminMethod>(
    method: M,
    args: Parameters<AdminStore[M]>,
  ): Promise<AdminResult<M>>;

  listAccounts(options: Parameters<AdminStore["listAccounts"]>[0]): Promise<AccountListing[]> {
    // Only these fields cross: anything else on the caller's object might not clone.
    const { limit, afterNameKey } = options;
    return this.admin("listAccounts", [{ limit, afterNameKey }]);
  }

  accountDisabled(userId: UserId): Promise<boolean> {
    return this.admin("accountDisabled", [userId]);
  }

  setDisabled(userId: UserId, disabled: boolean): Promise<boolean> {
    return this.admin("setDisabled", [userId, disabled]);
  }

  deleteAccount(userId: UserId): Promise<boolean> {
    return this.admin("deleteAccount", [userId]);
  }

  setPasswordHash(userId: UserId, passwordHash: string): Promise<boolean> {
    return this.admin("setPasswordHash", [userId, passwordHash]);
  }

  saveResetCode(code: Parameters<AdminStore["saveResetCode"]>[0]): Promise<void> {
    const { codeHash, userId, expiresMs } = code;
    return this.admin("saveResetCode", [{ codeHash, userId, expiresMs }]);
  }

  takeResetCode(codeHash: string, nowMs: number): Promise<UserId | undefined> {
    return this.admin("takeResetCode", [codeHash, nowMs]);
  }

  deleteRoom(room: RoomId): Promise<number> {
    return this.admin("deleteRoom", [room]);
  }

  exportRooms(): Promise<ExportedRoom[]> {
    return this.admin("exportRooms", []);
  }

  exportMessages(room: RoomId, afterId: MessageId, limit: number): Promise<ExportedMessage[]> {
    return this.admin("exportMessages", [room, afterId, limit]);
  }

  importRoom(room: ExportedRoom): Promise<void> {
    return this.admin("importRoom", [room]);
  }

  importMessages(room: RoomId, messages: readonly ExportedMessage[]): Promise<void> {
    return this.admin("importMessages", [room, messages]);
  }

  backup(path: string): Promise<void> {
    return this.admin("backup", [path]);
  }
}

/** Runs `call` on `target`; the name is checked first, as it may have crossed a thread. */
export function dispatchAdmin(target: SyncAdmin | AdminStore, call: AdminCall): unknown {
  const name: string = call.method;
  if (name === "constructor" || !Object.hasOwn(AdminCalls.prototype, name)) {
    throw new TypeError(`${name} is not an AdminStore method`);
  }
  const method = target[call.method] as (...args: readonly unknown[]) => unknown;
  return method.apply(target, call.args);
}
