// What every client shows of a message, free of any transport: the terminal
// client and the SDK use it over grpc-js, the web client over connect-web.
import { type Message, MessageKind } from "../gen/chat_pb.js";

/** A message as clients show it. */
export interface ChatLine {
  readonly room: string;
  readonly id: number;
  /** Server time, ms since the Unix epoch. */
  readonly timeMs: number;
  readonly userId: string;
  readonly username: string;
  readonly text: string;
  readonly system: boolean;
  /** The sender's idempotency key ("" when none). */
  readonly clientMsgId: string;
}

export function toChatLine(message: Message): ChatLine {
  return {
    room: message.room,
    id: Number(message.id),
    timeMs: Number(message.serverTimeMs),
    userId: message.userId,
    username: message.username,
    text: message.text,
    system: message.kind === MessageKind.SYSTEM,
    clientMsgId: message.clientMsgId,
  };
}

/** Whether `text` names `username` as a word, with or without @ (case and accents as typed). */
export function mentions(text: string, username: string): boolean {
  if (username === "") return false;
  const escaped = username.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}_])@?${escaped}($|[^\\p{L}\\p{N}_])`, "iu").test(text);
}
