import type { Member } from "../../../src/gen/chat_pb.js";
import type { ChatClient } from "../api.ts";

export interface TypingHost {
  readonly client: ChatClient;
  selfId(): string;
  /** How long the server keeps a typing state without another call (ms; 0 until known). */
  expiryMs(): number;
  changed(): void;
}

/** How often, at most, the page says again that the user is still typing in a room. */
const REPEAT_MS = 3_000;

/**
 * Typing, both ways: who else is typing in each room (Event.typing, which
 * the server expires), and SetTyping calls while the user types here.
 */
export class Typing {
  readonly #host: TypingHost;
  readonly #who = new Map<string, readonly string[]>();
  /** Rooms where the server was told the user is typing, and when it was last told. */
  readonly #told = new Map<string, number>();

  constructor(host: TypingHost) {
    this.#host = host;
  }

  /** The names of others typing in `room` now. */
  names(room: string): readonly string[] {
    return this.#who.get(room) ?? [];
  }

  heard(room: string, typing: readonly Member[]): void {
    const self = this.#host.selfId();
    this.#who.set(
      room,
      typing.filter((m) => m.userId !== self).map((m) => m.username),
    );
    this.#host.changed();
  }

  /** A new subscription: what the last one said may have expired unheard. */
  forget(): void {
    this.#who.clear();
    this.#told.clear();
    this.#host.changed();
  }

  /** What the composer holds now in `room`: typing while there is text, stopped when emptied. */
  typed(room: string, text: string): void {
    if (text.trim() === "") {
      this.stopped(room);
      return;
    }
    const expiry = this.#host.expiryMs();
    // A server whose state lasts under two repeats would let it lapse while the user types.
    const every = expiry > 0 ? Math.min(REPEAT_MS, expiry / 2) : REPEAT_MS;
    const last = this.#told.get(room);
    if (last !== undefined && Date.now() - last < every) return;
    this.#told.set(room, Date.now());
    this.#host.client.setTyping({ room }).catch(() => {
      // Typing is a courtesy: a lost call only means others see it a little later.
    });
  }

  /** The message was sent, or the composer emptied. */
  stopped(room: string): void {
    if (!this.#told.delete(room)) return;
    this.#host.client.setTyping({ room, stopped: true }).catch(() => {});
  }
}

/** "bob is typing…", "bob and carol are typing…", or "several people are typing…" ("" for nobody). */
export function typingLine(names: readonly string[]): string {
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "several people are typing…";
}
