import type { NotifyLevel } from "../store/integration-store.ts";
import type { ChatErrorCode } from "./chat-error.ts";
import type { ModerationKind, ReportView, RoomView } from "./governance-types.ts";
import type { Identity, MessageId, RoomId, StoredMessage } from "./types.ts";

/** How a join started delivery; see ResumeOutcome in the proto. */
export type ResumeOutcome = "live" | "resumed" | "reset";

/**
 * Everything the core pushes to a live stream. Each transport's encoder says
 * how (or whether) its wire shape carries each one.
 */
export type Outbound =
  | {
      readonly type: "message";
      readonly message: StoredMessage;
      /**
       * A join or leave line whose news streams had live as presence: the
       * seed's wire, which shows presence as lines, has said it already.
       */
      readonly announced?: boolean;
    }
  | {
      readonly type: "presence";
      readonly room: RoomId;
      /** Who came online (`online`) or went offline in one tick. */
      readonly online: boolean;
      readonly users: readonly Identity[];
      readonly onlineCount: number;
      readonly timeMs: number;
    }
  | { readonly type: "notice"; readonly text: string; readonly timeMs: number }
  | {
      readonly type: "welcome";
      readonly identity: Identity;
      readonly timeMs: number;
      readonly maxRooms: number;
    }
  | {
      readonly type: "joined";
      readonly room: RoomId;
      readonly lastId: MessageId;
      readonly epoch: string;
      readonly resume: ResumeOutcome;
      readonly topic: string;
      /** The user's read marker in the room (0: none). */
      readonly lastReadId: MessageId;
    }
  | {
      /** The user's read marker moved (on any of their sessions). */
      readonly type: "read";
      readonly room: RoomId;
      readonly lastReadId: MessageId;
    }
  | {
      /** The user's notification level for the room changed (on any of their sessions). */
      readonly type: "notify";
      readonly room: RoomId;
      readonly level: NotifyLevel;
    }
  | {
      /** Who is typing in the room now; empty when nobody is any more. */
      readonly type: "typing";
      readonly room: RoomId;
      readonly typing: readonly Identity[];
    }
  | {
      readonly type: "topic";
      readonly room: RoomId;
      readonly topic: string;
      readonly by: Identity;
      readonly timeMs: number;
    }
  | {
      readonly type: "caught_up";
      readonly room: RoomId;
      readonly lastId: MessageId;
      /** Sorted by name; empty when the room is too large to list. */
      readonly online: readonly Identity[];
      readonly onlineCount: number;
    }
  | {
      readonly type: "gap";
      readonly room: RoomId;
      readonly fromId: MessageId;
      readonly toId: MessageId;
    }
  | {
      readonly type: "left";
      readonly room: RoomId;
      /** Undefined when the client asked to leave. */
      readonly code?: ChatErrorCode;
      readonly reason: string;
    }
  | {
      readonly type: "ack";
      readonly room: RoomId;
      readonly clientMsgId: string;
      readonly id: MessageId;
      readonly timeMs: number;
    }
  | {
      /** The stream's user was kicked, banned, muted or let back in a room. */
      readonly type: "moderated";
      readonly room: RoomId;
      readonly kind: ModerationKind;
      readonly user: Identity;
      readonly by: Identity;
      readonly reason: string;
      readonly untilMs: number;
    }
  | { readonly type: "room_updated"; readonly room: RoomId; readonly settings: RoomView }
  | { readonly type: "report"; readonly room: RoomId; readonly report: ReportView }
  | {
      readonly type: "rejected";
      readonly room: RoomId;
      readonly clientMsgId: string;
      readonly code: ChatErrorCode;
      readonly reason: string;
      /** 0 unless the same send can succeed after this long (a rate limit). */
      readonly retryAfterMs: number;
    };

/**
 * Turns an outbound item into the bytes of one wire shape, or null when that
 * shape has no way to say it (the seed's stream has no "caught up", say).
 */
export type Encoder = (payload: Outbound) => Uint8Array | null;

/**
 * One outbound item on its way to many streams. Each wire shape encodes it at
 * most once, however many streams it goes to: the fan-out writes the same
 * bytes everywhere.
 */
export class Envelope {
  readonly payload: Outbound;
  /**
   * The stream that sent this message, if it is on this node: it gets an ack
   * instead. Compared by identity only.
   */
  readonly origin: object | undefined;
  // At most one entry per wire shape (two today), so a Map stays tiny.
  readonly #encoded = new Map<Encoder, Uint8Array | null>();

  constructor(payload: Outbound, origin?: object) {
    this.payload = payload;
    this.origin = origin;
  }

  encode(encoder: Encoder): Uint8Array | null {
    let bytes = this.#encoded.get(encoder);
    if (bytes === undefined) {
      bytes = encoder(this.payload);
      this.#encoded.set(encoder, bytes);
    }
    return bytes;
  }
}
