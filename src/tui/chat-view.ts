import type { ChatLine } from "../client/chat-client.ts";
import type { ConnectionState } from "../client/live-chat.ts";
import type { TerminalSignals } from "./notify.ts";
import type { RoomTab } from "./room-tabs.ts";

/** The message a reply answers, as the reply shows it; undefined when it is not known. */
export interface Quote {
  readonly username: string;
  /** Its text on one line, without markup, cut short. */
  readonly snippet: string;
  readonly deleted: boolean;
}

/** One thing for a view to show. */
export type DisplayItem =
  /** A message; `mention` when it names the user; `quote` when it is a reply. */
  | {
      readonly kind: "message";
      readonly line: ChatLine;
      readonly mention?: boolean;
      readonly quote?: Quote;
    }
  /**
   * A message the user sent: `pending` until the server has stored it. The
   * same `key` comes again once it is stored, to replace the pending one.
   */
  | {
      readonly kind: "sent";
      readonly key: string;
      readonly line: ChatLine;
      readonly pending: boolean;
      readonly quote?: Quote;
    }
  /**
   * A change entry (an edit, a delete, a reaction): `line` is the message it
   * changed, as it is now, when the client holds it. A view that shows that
   * message shows it changed; otherwise it says what happened.
   */
  | { readonly kind: "change"; readonly entry: ChatLine; readonly line?: ChatLine }
  /** The message a shown reply answers was looked up. */
  | { readonly kind: "quote"; readonly room: string; readonly id: number; readonly quote: Quote }
  /** About one room when `room` is set (shown with it), else about the chat. */
  | { readonly kind: "info"; readonly text: string; readonly room?: string }
  | { readonly kind: "error"; readonly text: string; readonly room?: string };

/** The room an item belongs to; undefined for one about the whole chat. */
export function itemRoom(item: DisplayItem): string | undefined {
  switch (item.kind) {
    case "message":
    case "sent":
      return item.line.room;
    case "change":
      return item.entry.room;
    default:
      return item.room;
  }
}

/** What a view (line mode, full screen) gives the controller. */
export interface ChatView {
  show(item: DisplayItem): void;
  setState(state: ConnectionState): void;
  /** Older messages, to go above everything shown (full screen's Page Up). */
  prepend?(items: readonly DisplayItem[]): void;
  /** Reads a password without showing it; undefined when the user cancels. */
  askSecret(prompt: string): Promise<string | undefined>;
  /** The open rooms, in order, the one shown, and the name we chat under. */
  setRooms(rooms: readonly RoomTab[], current: string, username: string): void;
  /** Who else is typing in a room now (empty: nobody). */
  setTyping?(room: string, names: readonly string[]): void;
  /** Show message numbers (/ids) before each message, or not. */
  setShowIds?(show: boolean): void;
  /** Draw the "new" divider in `room` above its first message after `lastReadId`. */
  setDivider?(room: string, lastReadId: number): void;
  /** Every room's messages are shown as they come (line mode), not only the current room's. */
  readonly showsEveryRoom?: boolean;
  /** The bell and the title, for messages that call for the user; undefined: neither (piped output). */
  readonly terminal?: TerminalSignals | undefined;
}
