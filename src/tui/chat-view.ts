import type { ChatLine } from "../client/chat-client.ts";
import type { ConnectionState } from "../client/live-chat.ts";
import type { RoomTab } from "./room-tabs.ts";

/** One thing for a view to show. */
export type DisplayItem =
  /** A message; `mention` when it names the user. */
  | { readonly kind: "message"; readonly line: ChatLine; readonly mention?: boolean }
  /**
   * A message the user sent: `pending` until the server has stored it. The
   * same `key` comes again once it is stored, to replace the pending one.
   */
  | {
      readonly kind: "sent";
      readonly key: string;
      readonly line: ChatLine;
      readonly pending: boolean;
    }
  /** About one room when `room` is set (shown with it), else about the chat. */
  | { readonly kind: "info"; readonly text: string; readonly room?: string }
  | { readonly kind: "error"; readonly text: string; readonly room?: string };

/** The room an item belongs to; undefined for one about the whole chat. */
export function itemRoom(item: DisplayItem): string | undefined {
  return item.kind === "message" || item.kind === "sent" ? item.line.room : item.room;
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
}
