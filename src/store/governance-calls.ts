import type {
  AddressBan,
  AuditRecord,
  GovernanceStore,
  InviteRecord,
  MessageId,
  NewAuditEntry,
  NewReport,
  ReportRecord,
  RoomId,
  RoomRecord,
  RoomRole,
  Sanction,
  UserId,
  WebhookRecord,
} from "./store.ts";

export type GovernanceMethod = keyof GovernanceStore;

/** One GovernanceStore call as data: what crosses to the SQLite worker. */
export type GovernanceCall = {
  [M in GovernanceMethod]: {
    readonly method: M;
    readonly args: Parameters<GovernanceStore[M]>;
  };
}[GovernanceMethod];

export type GovernanceResult<M extends GovernanceMethod> = Awaited<ReturnType<GovernanceStore[M]>>;

/** GovernanceStore with every method answering at once, as SQL on the worker's connection does. */
export type SyncGovernance = {
  [M in GovernanceMethod]: (...args: Parameters<GovernanceStore[M]>) => GovernanceResult<M>;
};

/**
 * Every GovernanceStore method as one call of `governance`, so that a store
 * forwards them all (to its worker, or through its call tracking) in one
 * place instead of a method each.
 */
export abstract class GovernanceCalls implements GovernanceStore {
  protected abstract governance<M extends GovernanceMethod>(
    method: M,
    args: Parameters<GovernanceStore[M]>,
  ): Promise<GovernanceResult<M>>;

  roomRecord(room: RoomId): Promise<RoomRecord | undefined> {
    return this.governance("roomRecord", [room]);
  }

  createRoom(record: RoomRecord): Promise<boolean> {
    return this.governance("createRoom", [record]);
  }

  updateRoom(
    room: RoomId,
    changes: { readonly inviteOnly?: boolean; readonly readOnly?: boolean },
    nowMs: number,
  ): Promise<RoomRecord> {
    return this.governance("updateRoom", [room, changes, nowMs]);
  }

  setRole(room: RoomId, userId: UserId, role: RoomRole | undefined, nowMs: number): Promise<void> {
    return this.governance("setRole", [room, userId, role, nowMs]);
  }

  roles(room: RoomId): Promise<ReadonlyMap<UserId, RoomRole>> {
    return this.governance("roles", [room]);
  }

  rolesOf(userId: UserId): Promise<ReadonlyMap<RoomId, RoomRole>> {
    return this.governance("rolesOf", [userId]);
  }

  setSanction(sanction: Sanction): Promise<void> {
    return this.governance("setSanction", [sanction]);
  }

  liftSanction(room: RoomId, userId: UserId, kind: Sanction["kind"]): Promise<boolean> {
    return this.governance("liftSanction", [room, userId, kind]);
  }

  sanctions(room: RoomId | undefined, nowMs: number): Promise<Sanction[]> {
    return this.governance("sanctions", [room, nowMs]);
  }

  setAddressBan(ban: AddressBan): Promise<void> {
    return this.governance("setAddressBan", [ban]);
  }

  liftAddressBan(cidr: string): Promise<boolean> {
    return this.governance("liftAddressBan", [cidr]);
  }

  addressBans(nowMs: number): Promise<AddressBan[]> {
    return this.governance("addressBans", [nowMs]);
  }

  createInvite(invite: InviteRecord): Promise<void> {
    return this.governance("createInvite", [invite]);
  }

  redeemInvite(codeHash: string, nowMs: number): Promise<RoomId | undefined> {
    return this.governance("redeemInvite", [codeHash, nowMs]);
  }

  createWebhook(hook: WebhookRecord): Promise<boolean> {
    return this.governance("createWebhook", [hook]);
  }

  webhookBySecret(secretHash: string): Promise<WebhookRecord | undefined> {
    return this.governance("webhookBySecret", [secretHash]);
  }

  webhooks(room: RoomId): Promise<WebhookRecord[]> {
    return this.governance("webhooks", [room]);
  }

  revokeWebhook(room: RoomId, name: string, nowMs: number): Promise<WebhookRecord | undefined> {
    return this.governance("revokeWebhook", [room, name, nowMs]);
  }

  addReport(report: NewReport): Promise<number> {
    return this.governance("addReport", [report]);
  }

  reports(
    room: RoomId,
    options: Parameters<GovernanceStore["reports"]>[1],
  ): Promise<ReportRecord[]> {
    return this.governance("reports", [room, options]);
  }

  resolveReport(
    room: RoomId,
    id: number,
    byId: UserId,
    resolution: string,
    nowMs: number,
  ): Promise<boolean> {
    return this.governance("resolveReport", [room, id, byId, resolution, nowMs]);
  }

  addAudit(entry: NewAuditEntry): Promise<number> {
    return this.governance("addAudit", [entry]);
  }

  audit(options: Parameters<GovernanceStore["audit"]>[0]): Promise<AuditRecord[]> {
    return this.governance("audit", [options]);
  }

  admins(): Promise<UserId[]> {
    return this.governance("admins", []);
  }

  setAdmin(userId: UserId, admin: boolean): Promise<boolean> {
    return this.governance("setAdmin", [userId, admin]);
  }

  messageIdsBy(room: RoomId, userId: UserId, sinceMs: number, limit: number): Promise<MessageId[]> {
    return this.governance("messageIdsBy", [room, userId, sinceMs, limit]);
  }
}

/** Runs `call` on `target`; the name is checked first, as it may have crossed a thread. */
export function dispatch(target: SyncGovernance | GovernanceStore, call: GovernanceCall): unknown {
  const name: string = call.method;
  if (name === "constructor" || !Object.hasOwn(GovernanceCalls.prototype, name)) {
    throw new TypeError(`${name} is not a GovernanceStore method`);
  }
  const method = target[call.method] as (...args: readonly unknown[]) => unknown;
  return method.apply(target, call.args);
}
