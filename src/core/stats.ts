import type { ChatErrorCode } from "./chat-error.ts";

export type AuthFailure = "bad_token" | "account_required" | "wrong_password" | "too_many_attempts";

/**
 * What the core counts for metrics. Plain numbers, so counting costs nothing
 * on the fan-out path; a transport reads them when it is scraped.
 */
export class ChatStats {
  /** Messages stored and acknowledged (a retried send that was already stored is not counted). */
  messagesStored = 0;
  /** Messages fanned out to a room's streams on this node: its own and those from the bus. */
  messagesFannedOut = 0;
  /** Items written to streams: messages, presence, acks, notices. */
  deliveries = 0;
  /** Times a stream's queue passed its bound, so it was switched to reading from the store. */
  readersCutOff = 0;
  /** Streams ended because their reader took nothing for the reader timeout. */
  readersEnded = 0;
  /** Pages of history read to catch a stream up, and the messages in them. */
  replayPages = 0;
  replayedMessages = 0;
  /** Refused sends, by the error's code. */
  readonly rejectedSends = new Map<ChatErrorCode, number>();
  /** Calls refused for who they are, by why. */
  readonly authFailures = new Map<AuthFailure, number>();

  sendRejected(code: ChatErrorCode): void {
    this.rejectedSends.set(code, (this.rejectedSends.get(code) ?? 0) + 1);
  }

  authFailed(reason: AuthFailure): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }
}
