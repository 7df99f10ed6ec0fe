import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  ModerationKind as Kind,
  ReportView,
  RoomView,
  SanctionView,
} from "../core/governance-types.ts";
import type { Rank } from "../core/room-rules.ts";
import type { Identity } from "../core/types.ts";
import {
  type AuditEntrySchema,
  ModerationKind,
  type ReportInfoSchema,
  RoomRole,
  type RoomSettingsSchema,
  type SanctionSchema,
} from "../gen/chat_pb.js";
import type { AuditRecord } from "../store/store.ts";
import { toMessage } from "./encoders.ts";

const ROLES: Readonly<Record<Rank, RoomRole>> = {
  none: RoomRole.UNSPECIFIED,
  member: RoomRole.MEMBER,
  moderator: RoomRole.MODERATOR,
  owner: RoomRole.OWNER,
  // An admin owns every room in all but name.
  admin: RoomRole.OWNER,
};

export const roomRole = (rank: Rank): RoomRole => ROLES[rank];

/** The role a request names, as the core's; INVALID_ARGUMENT for none. */
export function requestedRole(role: RoomRole): "member" | "moderator" | "owner" | undefined {
  switch (role) {
    case RoomRole.MEMBER:
      return "member";
    case RoomRole.MODERATOR:
      return "moderator";
    case RoomRole.OWNER:
      return "owner";
    default:
      return undefined;
  }
}

export const MODERATION_KINDS: Readonly<Record<Kind, ModerationKind>> = {
  kick: ModerationKind.KICK,
  ban: ModerationKind.BAN,
  unban: ModerationKind.UNBAN,
  mute: ModerationKind.MUTE,
  unmute: ModerationKind.UNMUTE,
};

const member = (identity: Identity) => ({ userId: identity.userId, username: identity.username });

/** RoomSettings; `viewer` set only in a reply to them. */
export function roomSettings(
  view: RoomView,
  viewer?: { readonly rank: Rank; readonly admin: boolean; readonly mutedUntilMs?: number },
): MessageInitShape<typeof RoomSettingsSchema> {
  return {
    room: view.room,
    ...(view.owner ? { owner: member(view.owner) } : {}),
    inviteOnly: view.inviteOnly,
    readOnly: view.readOnly,
    yourRole: viewer ? roomRole(viewer.rank) : RoomRole.UNSPECIFIED,
    youAreAdmin: viewer?.admin ?? false,
    staff: view.staff.map(({ user, role }) => ({ user: member(user), role: roomRole(role) })),
    topic: view.topic,
    youAreMuted: viewer?.mutedUntilMs !== undefined,
    mutedUntilMs: BigInt(viewer?.mutedUntilMs ?? 0),
  };
}

export function reportInfo(view: ReportView): MessageInitShape<typeof ReportInfoSchema> {
  return {
    id: BigInt(view.id),
    room: view.room,
    ...(view.message ? { message: toMessage(view.message) } : {}),
    reporter: member(view.reporter),
    reason: view.reason,
    atMs: BigInt(view.atMs),
    resolved: view.resolvedMs !== 0,
    ...(view.resolvedBy ? { resolvedBy: member(view.resolvedBy) } : {}),
    resolution: view.resolution,
    resolvedAtMs: BigInt(view.resolvedMs),
    context: view.context.map(toMessage),
  };
}

export function sanction(view: SanctionView): MessageInitShape<typeof SanctionSchema> {
  return {
    kind: MODERATION_KINDS[view.kind],
    room: view.room,
    ...(view.user ? { user: member(view.user) } : {}),
    cidr: view.cidr,
    by: member(view.by),
    reason: view.reason,
    untilMs: BigInt(view.untilMs),
    atMs: BigInt(view.atMs),
  };
}

export async function auditEntry(
  record: AuditRecord,
  nameOf: (userId: string) => Promise<Identity>,
): Promise<MessageInitShape<typeof AuditEntrySchema>> {
  return {
    id: BigInt(record.id),
    atMs: BigInt(record.createdMs),
    actor: member(await nameOf(record.actor)),
    action: record.action,
    room: record.room,
    target: record.target,
    reason: record.reason,
    detail: record.detail,
    ...(/^[ag]-/.test(record.target) ? { targetUser: member(await nameOf(record.target)) } : {}),
  };
}
