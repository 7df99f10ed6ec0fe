import type { ChatClient, Member } from "../client/chat-client.ts";

/** At most one "typing" call per room this often, while the user keeps typing. */
const TYPING_EVERY_MS = 3_000;

/** "bob is typing…", "bob and carol are typing…", "3 people are typing…"; "" for nobody. */
export function typingText(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return `${names.length} people are typing…`;
}

/** The others typing, by name, from a typing event (we know we are typing). */
export function othersTyping(typing: readonly Member[], selfId: string): string[] {
  return typing.filter((m) => m.userId !== selfId).map((m) => m.username);
}

/**
 * Tells the server while the user types a message: once every few seconds
 * per room at most (the server lets the state expire without it), and
 * "stopped" once the line is sent or emptied.
 */
export class TypingSignal {
  readonly #client: ChatClient;
  /** When we last said we type, per room we are typing in. */
  readonly #since = new Map<string, number>();

  constructor(client: ChatClient) {
    this.#client = client;
  }

  /** The input line in `room` is now `draft`. */
  drafting(room: string, draft: string): void {
    // A command is not a message being written; "//" starts one that is.
    const message = draft.trim() !== "" && (!draft.startsWith("/") || draft.startsWith("//"));
    if (!message) {
      this.stopped(room);
      return;
    }
    const now = Date.now();
    const last = this.#since.get(room);
    if (last !== undefined && now - last < TYPING_EVERY_MS) return;
    this.#since.set(room, now);
    this.#client.setTyping(room).catch(() => {});
  }

  /** The line was sent or emptied (or the user left the room). */
  stopped(room: string): void {
    if (!this.#since.delete(room)) return;
    this.#client.setTyping(room, true).catch(() => {});
  }
}
