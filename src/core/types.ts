import type { UserId } from "../store/store.ts";

export type {
  MessageId,
  MessageKind,
  NewMessage,
  RoomId,
  StoredMessage,
  UserId,
} from "../store/store.ts";

export { DEFAULT_ROOM } from "../wire/room-names.ts";

/** The author of server-written messages, as the seed names it. */
export const SYSTEM_USER_ID: UserId = "system";
export const SYSTEM_USERNAME = "System";

/** A user as the server knows them for the life of a stream or call. */
export interface Identity {
  readonly userId: UserId;
  readonly username: string;
}
