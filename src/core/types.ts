/** A room's name. The seed's RPCs all use {@link DEFAULT_ROOM}. */
export type RoomId = string;
/** Who a message or a stream belongs to. */
export type UserId = string;
/** Server-assigned, per room: 1, 2, 3, ... never reused. */
export type MessageId = number;

export const DEFAULT_ROOM: RoomId = "lobby";

/** The author of server-written messages (joins, leaves), as the seed names it. */
export const SYSTEM_USER_ID: UserId = "system";
export const SYSTEM_USERNAME = "System";

export type MessageKind = "chat" | "system";

/** A message on its way into the store: no id or time yet. */
export interface NewMessage {
  readonly room: RoomId;
  readonly userId: UserId;
  readonly username: string;
  readonly text: string;
  readonly kind: MessageKind;
  /** The sender's idempotency key; empty when it gave none. */
  readonly clientMsgId: string;
}

/** A message as the store keeps it and every reader sees it. */
export interface StoredMessage extends NewMessage {
  readonly id: MessageId;
  /** Milliseconds since the Unix epoch, from the server's clock. */
  readonly timeMs: number;
}

/** A user as the server knows them for the life of a stream or call. */
export interface Identity {
  readonly userId: UserId;
  readonly username: string;
}
