import { type ServiceError, status } from "@grpc/grpc-js";
import { type Event, ResumeOutcome } from "../gen/chat_pb.js";
import { RETRY_AFTER_METADATA } from "../wire/grpc-service.ts";
import { notifyLevelName } from "./bot-calls.ts";
import {
  applyChange,
  type ChatLine,
  type LineChange,
  type LineReaction,
  toChatLine,
} from "./chat-line.ts";
import {
  type ModerationNotice,
  type ReportEntry,
  type RoomSettings,
  toModerationNotice,
  toReportEntry,
  toRoomSettings,
} from "./governance-calls.ts";

export { applyChange, type ChatLine, type LineChange, type LineReaction, toChatLine };

export interface Member {
  readonly userId: string;
  readonly username: string;
  /** A bot or a webhook, not a person (absent: a person). */
  readonly bot?: boolean;
}

/** How a join started delivery: live at the head, resumed, or reset (the resume point meant nothing). */
export type ResumeKind = "live" | "resumed" | "reset";

/** What the server pushes on a Session or a subscription, as plain values. */
export type SessionEvent =
  | {
      readonly type: "welcome";
      readonly userId: string;
      readonly username: string;
      readonly maxRooms: number;
    }
  | {
      readonly type: "joined";
      readonly room: string;
      readonly lastId: number;
      readonly epoch: string;
      readonly resume: ResumeKind;
      readonly topic: string;
      /** Our read marker in the room: the newest id we have read (0: none yet). */
      readonly lastReadId: number;
    }
  | { readonly type: "topic"; readonly room: string; readonly topic: string; readonly by: Member }
  | { readonly type: "message"; readonly message: ChatLine }
  | {
      readonly type: "caught_up";
      readonly room: string;
      readonly lastId: number;
      readonly online: readonly Member[];
      readonly onlineCount: number;
    }
  | {
      readonly type: "presence";
      readonly room: string;
      readonly joined: readonly Member[];
      readonly left: readonly Member[];
      readonly onlineCount: number;
    }
  | { readonly type: "gap"; readonly room: string; readonly fromId: number; readonly toId: number }
  | { readonly type: "left"; readonly room: string; readonly code: status; readonly reason: string }
  | { readonly type: "notice"; readonly text: string; readonly timeMs: number }
  /** Our read marker in a room moved (on this session or another of ours). */
  | { readonly type: "read"; readonly room: string; readonly lastReadId: number }
  /** Our notification level for a room changed (on any of our sessions). */
  | { readonly type: "notify"; readonly room: string; readonly level: "all" | "mentions" | "off" }
  /** Who is typing in a room now (empty: nobody). */
  | { readonly type: "typing"; readonly room: string; readonly typing: readonly Member[] }
  /**
   * We were kicked, banned, muted or let back (on every stream of ours). A
   * kick or ban is followed by left with PERMISSION_DENIED: the room is not
   * to be rejoined by itself.
   */
  | ({ readonly type: "moderated" } & ModerationNotice)
  /** A room's kind or staff changed (to everyone in it); yourRole is "none". */
  | { readonly type: "room_updated"; readonly room: string; readonly settings: RoomSettings }
  /** A message in a room we moderate was reported. */
  | { readonly type: "report"; readonly room: string; readonly report: ReportEntry };

export interface SendAck {
  readonly room: string;
  readonly id: number;
  readonly timeMs: number;
}

/** A failed call, with the server's gRPC status and its sentence for a person. */
export class ChatClientError extends Error {
  readonly code: status;
  /** Set when the server said the same request can succeed after this long (a rate limit). */
  readonly retryAfterMs: number | undefined;

  constructor(code: status, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "ChatClientError";
    this.code = code;
    this.retryAfterMs = retryAfterMs || undefined;
  }

  static from(error: unknown): ChatClientError {
    if (error instanceof ChatClientError) return error;
    const e = error as Partial<ServiceError>;
    const retryAfter = Number(e.metadata?.get(RETRY_AFTER_METADATA)[0] ?? 0);
    return new ChatClientError(
      e.code ?? status.UNKNOWN,
      e.details || e.message || String(error),
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    );
  }
}

const RESUME: Record<number, ResumeKind> = {
  [ResumeOutcome.LIVE]: "live",
  [ResumeOutcome.RESUMED]: "resumed",
  [ResumeOutcome.RESET]: "reset",
};

const members = (list: readonly Member[]): Member[] =>
  list.map(({ userId, username, bot }) => ({ userId, username, ...(bot ? { bot } : {}) }));

/** The plain form of an Event; acks and refusals are not here (they answer sends). */
export function toSessionEvent(event: Event): SessionEvent | undefined {
  const { kind } = event;
  switch (kind.case) {
    case "welcome":
      return {
        type: "welcome",
        userId: kind.value.userId,
        username: kind.value.username,
        maxRooms: kind.value.maxRooms,
      };
    case "joined":
      return {
        type: "joined",
        room: kind.value.room,
        lastId: Number(kind.value.lastId),
        epoch: kind.value.epoch,
        resume: RESUME[kind.value.resume] ?? "live",
        topic: kind.value.topic,
        lastReadId: Number(kind.value.lastReadId),
      };
    case "topic":
      return {
        type: "topic",
        room: kind.value.room,
        topic: kind.value.topic,
        by: { userId: kind.value.by?.userId ?? "", username: kind.value.by?.username ?? "" },
      };
    case "message":
      return { type: "message", message: toChatLine(kind.value) };
    case "caughtUp":
      return {
        type: "caught_up",
        room: kind.value.room,
        lastId: Number(kind.value.lastId),
        online: members(kind.value.online),
        onlineCount: kind.value.onlineCount,
      };
    case "presence":
      return {
        type: "presence",
        room: kind.value.room,
        joined: members(kind.value.joined),
        left: members(kind.value.left),
        onlineCount: kind.value.onlineCount,
      };
    case "gap":
      return {
        type: "gap",
        room: kind.value.room,
        fromId: Number(kind.value.fromId),
        toId: Number(kind.value.toId),
      };
    case "left":
      return {
        type: "left",
        room: kind.value.room,
        code: kind.value.code,
        reason: kind.value.reason,
      };
    case "notice":
      return { type: "notice", text: kind.value.text, timeMs: Number(kind.value.serverTimeMs) };
    case "read":
      return { type: "read", room: kind.value.room, lastReadId: Number(kind.value.lastReadId) };
    case "notify":
      return { type: "notify", room: kind.value.room, level: notifyLevelName(kind.value.level) };
    case "typing":
      return { type: "typing", room: kind.value.room, typing: members(kind.value.typing) };
    case "moderated": {
      const notice = toModerationNotice(kind.value);
      return notice && { type: "moderated", ...notice };
    }
    case "roomUpdated":
      return {
        type: "room_updated",
        room: kind.value.room,
        settings: toRoomSettings(kind.value),
      };
    case "report":
      return { type: "report", room: kind.value.room, report: toReportEntry(kind.value) };
    default:
      return undefined;
  }
}
