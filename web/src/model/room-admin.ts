import type { ReportInfo, RoomRole, Sanction } from "../../../src/gen/chat_pb.js";
import { call } from "./actions.ts";
import type { ChatModel } from "./chat-model.ts";

/**
 * The calls of room settings, member actions and the report queue. Each
 * throws an Error with the server's sentence when refused; what it changes
 * comes back in its reply (kept at once) and as events to everyone concerned.
 */

/** A user as the server takes one in requests: an id from a member list, or a name. */
export interface Target {
  readonly userId: string;
  readonly name: string;
}

const who = (target: Target) => target.userId || target.name;

export async function updateRoom(
  model: ChatModel,
  room: string,
  change: { inviteOnly?: boolean; readOnly?: boolean },
): Promise<void> {
  model.moderation.apply(await call(model.client.updateRoom({ room, ...change })), true);
}

/** MODERATOR, MEMBER (takes moderation away) or OWNER (hands the room on). */
export async function setRole(
  model: ChatModel,
  room: string,
  target: Target,
  role: RoomRole,
): Promise<void> {
  const user = who(target);
  model.moderation.apply(await call(model.client.setRole({ room, user, role })), true);
}

/** An invite code for the room, as a link to this page that redeems it. */
export async function createInvite(
  model: ChatModel,
  room: string,
): Promise<{ link: string; expiresAtMs: number }> {
  const invite = await call(model.client.createInvite({ room }));
  const page = `${location.origin}${location.pathname}${location.search}`;
  return {
    link: `${page}#invite=${encodeURIComponent(invite.code)}`,
    expiresAtMs: Number(invite.expiresAtMs),
  };
}

export async function kick(model: ChatModel, room: string, target: Target, reason: string) {
  await call(model.client.kick({ room, user: who(target), reason }));
}

/** Bans for `durationMs` (0: until lifted); resolves to when it ends (0: until lifted). */
export async function ban(
  model: ChatModel,
  room: string,
  target: Target,
  durationMs: number,
  reason: string,
): Promise<number> {
  const request = { room, user: who(target), durationMs: BigInt(durationMs), reason };
  return Number((await call(model.client.ban(request))).untilMs);
}

export async function mute(
  model: ChatModel,
  room: string,
  target: Target,
  durationMs: number,
  reason: string,
): Promise<number> {
  const request = { room, user: who(target), durationMs: BigInt(durationMs), reason };
  return Number((await call(model.client.mute(request))).untilMs);
}

export async function lift(
  model: ChatModel,
  room: string,
  target: Target,
  what: "unban" | "unmute",
): Promise<void> {
  const request = { room, user: who(target) };
  await call(what === "unban" ? model.client.unban(request) : model.client.unmute(request));
}

/** The room's bans and mutes in force. */
export async function listBans(model: ChatModel, room: string): Promise<Sanction[]> {
  return (await call(model.client.listBans({ room }))).bans;
}

export async function report(
  model: ChatModel,
  room: string,
  id: number,
  reason: string,
): Promise<void> {
  if (reason.trim() === "") throw new Error("Say what is wrong with the message.");
  await call(model.client.report({ room, messageId: BigInt(id), reason: reason.trim() }));
}

/** The room's open reports, newest first (the badge is counted from them too). */
export function listReports(model: ChatModel, room: string): Promise<ReportInfo[]> {
  return call(model.moderation.countReports(room));
}

export async function resolveReport(
  model: ChatModel,
  room: string,
  id: number,
  resolution: string,
): Promise<void> {
  await call(model.client.resolveReport({ room, reportId: BigInt(id), resolution }));
  model.moderation.of(room).openReports.delete(id);
  model.changed("rooms");
}

/** A room's incoming webhook as the settings show it. */
export interface HookView {
  readonly name: string;
  readonly createdAtMs: number;
  readonly revoked: boolean;
}

const hookView = (hook: { name: string; createdAtMs: bigint; revokedAtMs: bigint }): HookView => ({
  name: hook.name,
  createdAtMs: Number(hook.createdAtMs),
  revoked: hook.revokedAtMs > 0n,
});

/** A new webhook; `url` is where tools POST to, shown only now (the secret is in it). */
export async function createWebhook(
  model: ChatModel,
  room: string,
  name: string,
): Promise<{ hook: HookView; url: string }> {
  const hook = await call(model.client.createWebhook({ room, name }));
  return { hook: hookView(hook), url: `${location.origin}${hook.path}` };
}

export async function listWebhooks(model: ChatModel, room: string): Promise<HookView[]> {
  return (await call(model.client.listWebhooks({ room }))).webhooks.map(hookView);
}

export async function revokeWebhook(model: ChatModel, room: string, name: string): Promise<void> {
  await call(model.client.revokeWebhook({ room, name }));
}
