import type { MessageId, RoomId, UserId } from "./store.ts";

/** A stored role in a room: `member` only matters in an invite-only room. */
export type RoomRole = "member" | "moderator" | "owner";

/** What a room is, as stored once someone created it (or set its kind). */
export interface RoomRecord {
  readonly room: RoomId;
  /** "" when the room has no owner (server admins own it). */
  readonly owner: UserId;
  readonly inviteOnly: boolean;
  readonly readOnly: boolean;
  readonly createdMs: number;
}

/** A ban or mute of a user in a room. */
export interface Sanction {
  readonly room: RoomId;
  readonly userId: UserId;
  readonly kind: "ban" | "mute";
  /** When it ends (ms since the epoch); 0: until lifted. */
  readonly untilMs: number;
  readonly reason: string;
  readonly byId: UserId;
  readonly createdMs: number;
}

/** A server-wide ban of a client address range (canonical CIDR text). */
export interface AddressBan {
  readonly cidr: string;
  readonly untilMs: number;
  readonly reason: string;
  readonly byId: UserId;
  readonly createdMs: number;
}

export interface InviteRecord {
  /** SHA-256 of the code, hex: the code itself is never stored. */
  readonly codeHash: string;
  readonly room: RoomId;
  readonly createdBy: UserId;
  readonly createdMs: number;
  readonly expiresMs: number;
  /** Uses left; 0 with `unlimited`. */
  readonly usesLeft: number;
  readonly unlimited: boolean;
}

/** An incoming webhook: whoever holds its secret may post to its room. */
export interface WebhookRecord {
  /** The public part, also the sender's user id of what it posts (`h-…`). */
  readonly id: UserId;
  /** SHA-256 of the secret, hex: the secret itself is never stored. */
  readonly secretHash: string;
  readonly room: RoomId;
  /** Unique among the room's hooks that are not revoked; the sender's name by default. */
  readonly name: string;
  readonly createdBy: UserId;
  readonly createdMs: number;
  /** When it was revoked; 0 while it works. */
  readonly revokedMs: number;
}

export interface NewReport {
  readonly room: RoomId;
  readonly messageId: MessageId;
  readonly reporter: UserId;
  readonly reason: string;
  readonly createdMs: number;
}

export interface ReportRecord extends NewReport {
  /** Assigned by the store, increasing across the whole server. */
  readonly id: number;
  /** "" while open. */
  readonly resolvedBy: UserId;
  readonly resolution: string;
  /** 0 while open. */
  readonly resolvedMs: number;
}

export interface NewAuditEntry {
  readonly actor: UserId;
  readonly action: string;
  /** "" for a server-wide action. */
  readonly room: RoomId;
  readonly target: string;
  readonly reason: string;
  readonly detail: string;
  readonly createdMs: number;
}

export interface AuditRecord extends NewAuditEntry {
  /** Assigned by the store, increasing across the whole server. */
  readonly id: number;
}

/**
 * Who may do what in which room, and the record of what moderators did: the
 * part of the Store that governs rooms. Everything here is small and read
 * rarely (the core caches it), so implementations favour plain statements
 * over speed. Implementations must pass `test/store-governance-contract.ts`.
 */
export interface GovernanceStore {
  /** The room's record; undefined when nobody created it or set its kind. */
  roomRecord(room: RoomId): Promise<RoomRecord | undefined>;
  /**
   * Stores the record unless the room has one, or has any stored message or
   * topic (an existing room is not created again); resolves whether it did.
   * An owner given is also stored as the room's `owner` role.
   */
  createRoom(record: RoomRecord): Promise<boolean>;
  /** Changes (creating with defaults where missing) the room's kind flags. */
  updateRoom(
    room: RoomId,
    changes: { readonly inviteOnly?: boolean; readonly readOnly?: boolean },
    nowMs: number,
  ): Promise<RoomRecord>;
  /**
   * Sets `userId`'s role in the room; undefined removes it. Setting `owner`
   * makes the record's owner that user and the previous owner a moderator,
   * in one transaction.
   */
  setRole(room: RoomId, userId: UserId, role: RoomRole | undefined, nowMs: number): Promise<void>;
  /** Every stored role in the room (owner, moderators, members), by user id. */
  roles(room: RoomId): Promise<ReadonlyMap<UserId, RoomRole>>;
  /** The rooms where `userId` has a role, by room name. */
  rolesOf(userId: UserId): Promise<ReadonlyMap<RoomId, RoomRole>>;

  /** Stores a ban or mute, replacing the same user's same kind in the room. */
  setSanction(sanction: Sanction): Promise<void>;
  /** Removes it; resolves whether there was one. */
  liftSanction(room: RoomId, userId: UserId, kind: Sanction["kind"]): Promise<boolean>;
  /**
   * The room's bans and mutes (every room's when room is undefined) that
   * have not ended at `nowMs` (untilMs 0 or above it).
   */
  sanctions(room: RoomId | undefined, nowMs: number): Promise<Sanction[]>;
  setAddressBan(ban: AddressBan): Promise<void>;
  liftAddressBan(cidr: string): Promise<boolean>;
  /** Address bans that have not ended at `nowMs`. */
  addressBans(nowMs: number): Promise<AddressBan[]>;

  createInvite(invite: InviteRecord): Promise<void>;
  /**
   * Uses one of the code's uses if it has not expired at `nowMs` and has
   * uses left, in one transaction; resolves to its room, or undefined.
   */
  redeemInvite(codeHash: string, nowMs: number): Promise<RoomId | undefined>;

  /**
   * Stores a new hook; resolves false, storing nothing, when the room already
   * has a hook of that name that is not revoked.
   */
  createWebhook(hook: WebhookRecord): Promise<boolean>;
  /** The hook with this secret hash, revoked or not. */
  webhookBySecret(secretHash: string): Promise<WebhookRecord | undefined>;
  /** The room's hooks, revoked ones too, oldest first. */
  webhooks(room: RoomId): Promise<WebhookRecord[]>;
  /** Revokes the room's working hook of that name; resolves it, or undefined when there is none. */
  revokeWebhook(room: RoomId, name: string, nowMs: number): Promise<WebhookRecord | undefined>;

  /** Stores a report; resolves to its id. */
  addReport(report: NewReport): Promise<number>;
  /** A room's reports, newest first, ids below `beforeId` when given, open ones only unless asked. */
  reports(
    room: RoomId,
    options: {
      readonly limit: number;
      readonly beforeId?: number;
      readonly includeResolved: boolean;
    },
  ): Promise<ReportRecord[]>;
  /** Resolves an open report of the room; resolves false when there is no such open one. */
  resolveReport(
    room: RoomId,
    id: number,
    byId: UserId,
    resolution: string,
    nowMs: number,
  ): Promise<boolean>;

  /** Stores an audit entry; resolves to its id. */
  addAudit(entry: NewAuditEntry): Promise<number>;
  /** Entries newest first, of one room (or all when room is undefined), ids below `beforeId`. */
  audit(options: {
    readonly room?: RoomId;
    readonly limit: number;
    readonly beforeId?: number;
  }): Promise<AuditRecord[]>;

  /** Server admins granted on the database (besides those --admin names). */
  admins(): Promise<UserId[]>;
  /** Grants or takes away admin; resolves whether anything changed. */
  setAdmin(userId: UserId, admin: boolean): Promise<boolean>;

  /**
   * Ids of `userId`'s chat messages in the room sent at or after `sinceMs`
   * and not deleted, oldest first, at most `limit`.
   */
  messageIdsBy(room: RoomId, userId: UserId, sinceMs: number, limit: number): Promise<MessageId[]>;
}
