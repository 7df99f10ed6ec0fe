import type { MessageId, NewMessage, RoomId, StoredMessage } from "../core/types.ts";

export interface AppendResult {
  readonly message: StoredMessage;
  /**
   * True when the same user already sent this client_msg_id in this room; the
   * message is then the one stored the first time, and nothing new was stored.
   */
  readonly duplicate: boolean;
}

export interface HistoryOptions {
  /** Most messages to return. */
  readonly limit: number;
  /** Only messages with a smaller id; 0 or absent for the newest. */
  readonly beforeId?: MessageId;
  readonly includeSystem: boolean;
}

/**
 * Where messages live. The store owns ids and times: it gives each appended
 * message the room's next id and the server's time. Implementations must pass
 * `test/store-contract.ts`.
 */
export interface Store {
  /** Appends all of `messages` or none of them, in order. */
  append(messages: readonly NewMessage[]): Promise<AppendResult[]>;
  /** The newest messages before `beforeId`, newest first. */
  history(room: RoomId, options: HistoryOptions): Promise<StoredMessage[]>;
  /** Messages with an id above `afterId`, oldest first, at most `limit`. */
  after(room: RoomId, afterId: MessageId, limit: number): Promise<StoredMessage[]>;
  /** The room's newest id; 0 when it has none. */
  lastId(room: RoomId): Promise<MessageId>;
  close(): Promise<void>;
}
