// The RPCs of rooms a team governs: roles, room kinds, invites, kicks, bans,
// mutes, reports and the audit log. Each is one unary call; the users they
// name are a username or a user id, as the server takes them. The plain
// forms of their answers are here too, since the events that carry the same
// messages (Moderated, RoomSettings, ReportInfo) are read with them.
import { create } from "@bufbuild/protobuf";
import {
  type AuditEntry as AuditEntryMessage,
  BanAddressRequestSchema,
  BanRequestSchema,
  CreateInviteRequestSchema,
  CreateRoomRequestSchema,
  GetRoomRequestSchema,
  type InviteCode as InviteCodeMessage,
  InviteRequestSchema,
  type InviteResponse,
  KickRequestSchema,
  ListAuditRequestSchema,
  type ListAuditResponse,
  ListBansRequestSchema,
  type ListBansResponse,
  ListReportsRequestSchema,
  type ListReportsResponse,
  type Member as MemberMessage,
  type Moderated,
  ModerationKind as ModerationKindNumber,
  type ModerationResponse,
  MuteRequestSchema,
  RedeemInviteRequestSchema,
  type RedeemInviteResponse,
  type ReportInfo,
  ReportRequestSchema,
  type ReportResponse,
  ResolveReportRequestSchema,
  RoomRole as RoomRoleNumber,
  type RoomSettings as RoomSettingsMessage,
  type Sanction as SanctionMessage,
  SetRoleRequestSchema,
  UnbanAddressRequestSchema,
  UnbanRequestSchema,
  UnmuteRequestSchema,
  UpdateRoomRequestSchema,
} from "../gen/chat_pb.js";
import { type ChatLine, toChatLine } from "./chat-line.ts";
import type { Member } from "./events.ts";
import type { GrpcChannel } from "./grpc-channel.ts";

/** A role in a room; "none" is a member of a public room, or nobody there. */
export type RoomRole = "none" | "member" | "moderator" | "owner";

export type ModerationKind = "kick" | "ban" | "unban" | "mute" | "unmute";

/** A room's owner, kind and staff (GetRoom and the others, and Event.room_updated). */
export interface RoomSettings {
  readonly room: string;
  /** Undefined when nobody owns the room (then the server's admins do). */
  readonly owner: Member | undefined;
  readonly inviteOnly: boolean;
  readonly readOnly: boolean;
  /** Ours; "none" in an event, which is the same for everyone. */
  readonly yourRole: RoomRole;
  readonly youAreAdmin: boolean;
  /** The owner and the moderators. */
  readonly staff: readonly { readonly user: Member; readonly role: RoomRole }[];
  readonly topic: string;
}

/** A kick, ban, mute or their lifting, as told to the user concerned. */
export interface ModerationNotice {
  readonly room: string;
  readonly kind: ModerationKind;
  readonly user: Member;
  readonly by: Member;
  readonly reason: string;
  /** When a ban or mute ends, ms since the epoch; 0: until lifted. */
  readonly untilMs: number;
}

/** What a kick, ban, mute or lifting was applied to. */
export interface ModerationResult {
  readonly user: Member;
  /** When the ban or mute ends; 0: until lifted (or not one). */
  readonly untilMs: number;
  /** Messages a ban erased. */
  readonly deleted: number;
}

/** A ban or mute in force: of a user in a room, or of an address range. */
export interface SanctionEntry {
  readonly kind: ModerationKind;
  readonly room: string;
  readonly user: Member | undefined;
  readonly cidr: string;
  readonly by: Member;
  readonly reason: string;
  readonly untilMs: number;
  readonly atMs: number;
}

export interface InviteCodeInfo {
  readonly code: string;
  readonly room: string;
  readonly expiresMs: number;
  /** How many may use it; 0: any number until it expires. */
  readonly uses: number;
}

/** A reported message, in its current state, with the messages just before it. */
export interface ReportEntry {
  readonly id: number;
  readonly room: string;
  /** Undefined when the message is gone from history. */
  readonly message: ChatLine | undefined;
  readonly reporter: Member;
  readonly reason: string;
  readonly atMs: number;
  readonly resolved: boolean;
  readonly resolvedBy: Member | undefined;
  readonly resolution: string;
  readonly resolvedAtMs: number;
  /** Oldest first. */
  readonly context: readonly ChatLine[];
}

export interface AuditRecord {
  readonly id: number;
  readonly atMs: number;
  readonly actor: Member;
  /** "kick", "ban", "set_role", "update_room", ... */
  readonly action: string;
  /** "" for a server-wide action. */
  readonly room: string;
  /** A user id, a message, an address range. */
  readonly target: string;
  readonly reason: string;
  /** What changed, in words. */
  readonly detail: string;
}

const ROLES: Record<number, RoomRole> = {
  [RoomRoleNumber.MEMBER]: "member",
  [RoomRoleNumber.MODERATOR]: "moderator",
  [RoomRoleNumber.OWNER]: "owner",
};

const ROLE_NUMBERS: Record<Exclude<RoomRole, "none">, RoomRoleNumber> = {
  member: RoomRoleNumber.MEMBER,
  moderator: RoomRoleNumber.MODERATOR,
  owner: RoomRoleNumber.OWNER,
};

const KINDS: Record<number, ModerationKind> = {
  [ModerationKindNumber.KICK]: "kick",
  [ModerationKindNumber.BAN]: "ban",
  [ModerationKindNumber.UNBAN]: "unban",
  [ModerationKindNumber.MUTE]: "mute",
  [ModerationKindNumber.UNMUTE]: "unmute",
};

const member = (m: MemberMessage | undefined): Member => ({
  userId: m?.userId ?? "",
  username: m?.username ?? "",
});

const optionalMember = (m: MemberMessage | undefined): Member | undefined =>
  m === undefined ? undefined : member(m);

export function toRoomSettings(s: RoomSettingsMessage): RoomSettings {
  return {
    room: s.room,
    owner: optionalMember(s.owner),
    inviteOnly: s.inviteOnly,
    readOnly: s.readOnly,
    yourRole: ROLES[s.yourRole] ?? "none",
    youAreAdmin: s.youAreAdmin,
    staff: s.staff.map((h) => ({ user: member(h.user), role: ROLES[h.role] ?? "none" })),
    topic: s.topic,
  };
}

/** Undefined for a kind this client does not know (a newer server's). */
export function toModerationNotice(m: Moderated): ModerationNotice | undefined {
  const kind = KINDS[m.kind];
  if (kind === undefined) return undefined;
  return {
    room: m.room,
    kind,
    user: member(m.user),
    by: member(m.by),
    reason: m.reason,
    untilMs: Number(m.untilMs),
  };
}

export function toReportEntry(r: ReportInfo): ReportEntry {
  return {
    id: Number(r.id),
    room: r.room,
    message: r.message && toChatLine(r.message),
    reporter: member(r.reporter),
    reason: r.reason,
    atMs: Number(r.atMs),
    resolved: r.resolved,
    resolvedBy: optionalMember(r.resolvedBy),
    resolution: r.resolution,
    resolvedAtMs: Number(r.resolvedAtMs),
    context: r.context.map(toChatLine),
  };
}

const sanctionEntry = (s: SanctionMessage): SanctionEntry => ({
  kind: KINDS[s.kind] ?? "ban",
  room: s.room,
  user: optionalMember(s.user),
  cidr: s.cidr,
  by: member(s.by),
  reason: s.reason,
  untilMs: Number(s.untilMs),
  atMs: Number(s.atMs),
});

const auditRecord = (e: AuditEntryMessage): AuditRecord => ({
  id: Number(e.id),
  atMs: Number(e.atMs),
  actor: member(e.actor),
  action: e.action,
  room: e.room,
  target: e.target,
  reason: e.reason,
  detail: e.detail,
});

const inviteCode = (c: InviteCodeMessage): InviteCodeInfo => ({
  code: c.code,
  room: c.room,
  expiresMs: Number(c.expiresAtMs),
  uses: c.uses,
});

const result = (r: ModerationResponse): ModerationResult => ({
  user: member(r.user),
  untilMs: Number(r.untilMs),
  deleted: r.deleted,
});

/**
 * The calls, on whichever connection the client has now (it changes when
 * a client falls back to the seed's protocol).
 */
export class GovernanceCalls {
  readonly #channel: () => GrpcChannel;

  constructor(channel: () => GrpcChannel) {
    this.#channel = channel;
  }

  #call<T>(rpc: string, request: unknown): Promise<T> {
    return this.#channel().unary<T>(rpc, request);
  }

  async #settings(rpc: string, request: unknown): Promise<RoomSettings> {
    return toRoomSettings(await this.#call<RoomSettingsMessage>(rpc, request));
  }

  /** Creates a room with us as its owner (ALREADY_EXISTS when it exists). */
  createRoom(
    room: string,
    options: { inviteOnly?: boolean; readOnly?: boolean; topic?: string } = {},
  ): Promise<RoomSettings> {
    return this.#settings("createRoom", create(CreateRoomRequestSchema, { room, ...options }));
  }

  getRoom(room: string): Promise<RoomSettings> {
    return this.#settings("getRoom", create(GetRoomRequestSchema, { room }));
  }

  /** Changes what is given; what is left out stays. Owners. */
  updateRoom(
    room: string,
    change: { inviteOnly?: boolean; readOnly?: boolean },
  ): Promise<RoomSettings> {
    return this.#settings("updateRoom", create(UpdateRoomRequestSchema, { room, ...change }));
  }

  /** Makes a user a moderator, a member again, or (owner) the room's owner. Owners. */
  setRole(room: string, user: string, role: Exclude<RoomRole, "none">): Promise<RoomSettings> {
    const request = create(SetRoleRequestSchema, { room, user, role: ROLE_NUMBERS[role] });
    return this.#settings("setRole", request);
  }

  /** Lets a user into an invite-only room. Moderators. */
  async invite(room: string, user: string): Promise<Member> {
    const r = await this.#call<InviteResponse>(
      "invite",
      create(InviteRequestSchema, { room, user }),
    );
    return member(r.user);
  }

  /** A code that lets its holders in; `expiresInMs` 0 is the server's default, `uses` 0 any number. */
  async createInvite(
    room: string,
    options: { expiresInMs?: number; uses?: number } = {},
  ): Promise<InviteCodeInfo> {
    const request = create(CreateInviteRequestSchema, {
      room,
      expiresInMs: BigInt(options.expiresInMs ?? 0),
      uses: options.uses ?? 0,
    });
    return inviteCode(await this.#call<InviteCodeMessage>("createInvite", request));
  }

  /** Uses a code; resolves to the room it lets us into (join it next). */
  async redeemInvite(code: string): Promise<string> {
    const request = create(RedeemInviteRequestSchema, { code });
    return (await this.#call<RedeemInviteResponse>("redeemInvite", request)).room;
  }

  async kick(room: string, user: string, reason = ""): Promise<Member> {
    const request = create(KickRequestSchema, { room, user, reason });
    return result(await this.#call<ModerationResponse>("kick", request)).user;
  }

  /** `durationMs` 0: until lifted. */
  async ban(
    room: string,
    user: string,
    options: { durationMs?: number; reason?: string; deleteHours?: number } = {},
  ): Promise<ModerationResult> {
    const request = create(BanRequestSchema, {
      room,
      user,
      durationMs: BigInt(options.durationMs ?? 0),
      reason: options.reason ?? "",
      deleteHours: options.deleteHours ?? 0,
    });
    return result(await this.#call<ModerationResponse>("ban", request));
  }

  async unban(room: string, user: string): Promise<Member> {
    const request = create(UnbanRequestSchema, { room, user });
    return result(await this.#call<ModerationResponse>("unban", request)).user;
  }

  /** `durationMs` 0: until lifted. */
  async mute(
    room: string,
    user: string,
    options: { durationMs?: number; reason?: string } = {},
  ): Promise<ModerationResult> {
    const request = create(MuteRequestSchema, {
      room,
      user,
      durationMs: BigInt(options.durationMs ?? 0),
      reason: options.reason ?? "",
    });
    return result(await this.#call<ModerationResponse>("mute", request));
  }

  async unmute(room: string, user: string): Promise<Member> {
    const request = create(UnmuteRequestSchema, { room, user });
    return result(await this.#call<ModerationResponse>("unmute", request)).user;
  }

  /** A room's bans and mutes in force; with room "", the server's address bans (admins). */
  async listBans(room: string): Promise<SanctionEntry[]> {
    const r = await this.#call<ListBansResponse>(
      "listBans",
      create(ListBansRequestSchema, { room }),
    );
    return r.bans.map(sanctionEntry);
  }

  /** Refuses every call from an address or range ("203.0.113.0/24"). Admins. */
  async banAddress(
    cidr: string,
    options: { durationMs?: number; reason?: string } = {},
  ): Promise<number> {
    const request = create(BanAddressRequestSchema, {
      cidr,
      durationMs: BigInt(options.durationMs ?? 0),
      reason: options.reason ?? "",
    });
    return result(await this.#call<ModerationResponse>("banAddress", request)).untilMs;
  }

  async unbanAddress(cidr: string): Promise<void> {
    await this.#call("unbanAddress", create(UnbanAddressRequestSchema, { cidr }));
  }

  /** Reports a message to the room's moderators; resolves to the report's id. */
  async report(room: string, messageId: number, reason: string): Promise<number> {
    const request = create(ReportRequestSchema, { room, messageId: BigInt(messageId), reason });
    return Number((await this.#call<ReportResponse>("report", request)).reportId);
  }

  /** One page of the room's reports, newest first; pass `nextPageToken` back for the next. */
  async listReports(
    room: string,
    options: { includeResolved?: boolean; pageSize?: number; pageToken?: string } = {},
  ): Promise<{ reports: ReportEntry[]; nextPageToken: string }> {
    const request = create(ListReportsRequestSchema, {
      room,
      includeResolved: options.includeResolved ?? false,
      pageSize: options.pageSize ?? 0,
      pageToken: options.pageToken ?? "",
    });
    const r = await this.#call<ListReportsResponse>("listReports", request);
    return { reports: r.reports.map(toReportEntry), nextPageToken: r.nextPageToken };
  }

  async resolveReport(room: string, reportId: number, resolution = ""): Promise<void> {
    const request = create(ResolveReportRequestSchema, {
      room,
      reportId: BigInt(reportId),
      resolution,
    });
    await this.#call("resolveReport", request);
  }

  /** One page of the audit log, newest first: a room's (its owner), or all with room "" (admins). */
  async listAudit(
    room: string,
    options: { pageSize?: number; pageToken?: string } = {},
  ): Promise<{ entries: AuditRecord[]; nextPageToken: string }> {
    const request = create(ListAuditRequestSchema, {
      room,
      pageSize: options.pageSize ?? 0,
      pageToken: options.pageToken ?? "",
    });
    const r = await this.#call<ListAuditResponse>("listAudit", request);
    return { entries: r.entries.map(auditRecord), nextPageToken: r.nextPageToken };
  }
}
