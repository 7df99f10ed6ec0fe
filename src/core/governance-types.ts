import type { RoomRole } from "../store/store.ts";
import type { Identity, RoomId, StoredMessage } from "./types.ts";

export type ModerationKind = "kick" | "ban" | "unban" | "mute" | "unmute";

/** A room's settings as its members see them. */
export interface RoomView {
  readonly room: RoomId;
  /** Undefined when server admins own the room. */
  readonly owner: Identity | undefined;
  readonly inviteOnly: boolean;
  readonly readOnly: boolean;
  /** The owner and the moderators. */
  readonly staff: readonly { readonly user: Identity; readonly role: RoomRole }[];
  readonly topic: string;
}

/** A ban or mute in force, or an address ban (room "", no user). */
export interface SanctionView {
  readonly kind: "ban" | "mute";
  readonly room: RoomId;
  readonly user: Identity | undefined;
  readonly cidr: string;
  readonly by: Identity;
  readonly reason: string;
  readonly untilMs: number;
  readonly atMs: number;
}

export interface ReportView {
  readonly id: number;
  readonly room: RoomId;
  /** Undefined once retention removed it. */
  readonly message: StoredMessage | undefined;
  readonly context: readonly StoredMessage[];
  readonly reporter: Identity;
  readonly reason: string;
  readonly atMs: number;
  readonly resolvedBy: Identity | undefined;
  readonly resolution: string;
  readonly resolvedMs: number;
}
