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
  /** Set for a bot's token: what its owner let it do. */
  readonly botScope?: BotScope;
}

/** The rooms a bot's token may post in, and whether it may read them too. */
export interface BotScope {
  readonly rooms: ReadonlySet<string>;
  readonly read: boolean;
}
