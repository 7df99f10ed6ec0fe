import { status } from "@grpc/grpc-js";
import type { ChatLine } from "../client/chat-client.ts";
import type { LiveEvent } from "../client/live-chat.ts";
import { presenceText } from "../wire/presence-text.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import type { DisplayItem } from "./chat-view.ts";
import type { MessageCommands } from "./message-commands.ts";
import { type KnownRooms, moderatedText, reportText } from "./moderation-notices.ts";
import type { ReadMarks } from "./read-marks.ts";
import type { RoomTabs } from "./room-tabs.ts";
import { othersTyping } from "./typing.ts";

export function systemLine(room: string, text: string, timeMs: number): ChatLine {
  return {
    room,
    id: 0,
    timeMs,
    userId: "system",
    username: "System",
    text,
    system: true,
    clientMsgId: "",
  };
}

/** What the display needs of the controller. */
export interface DisplayTarget {
  readonly tabs: RoomTabs;
  /** Our public id and name: whose messages are ours, and what a mention is. */
  self(): { userId: string; username: string };
  show(item: DisplayItem): void;
  /** The open rooms changed (a new one, unread counts). */
  tabsChanged(): void;
  /** A direct-message room whose other user is not known yet. */
  lookUpPeer(room: string): void;
  /** The messages shown, in their current state, and what replies answer. */
  readonly messages: MessageCommands;
  /** Our read markers: what is shown in view is read. */
  readonly reads: ReadMarks;
  /** Who else is typing in a room now. */
  typing(room: string, names: readonly string[]): void;
  /** The server stores joins and leaves as lines of the log: presence needs no line here. */
  joinLines(): boolean;
  /** What the client knows of rooms' kinds and staff, to say what changes. */
  readonly known: KnownRooms;
  /** Asks the server for a room's kind and staff, into `known`. */
  learnRoom(room: string): void;
  /** A live message (not history) arrived; `mention` when it names us. */
  arrived(line: ChatLine, mention: boolean): void;
  /** Our level for a room changed, on this session or another. */
  notifyChanged(room: string, level: "all" | "mentions" | "off"): void;
}

/**
 * Turns the live chat's events into items for the views, room by room:
 * unread and mention counts, tabs for rooms the server brings us into (a
 * direct message), topics.
 */
export class EventDisplay {
  readonly #target: DisplayTarget;
  readonly #topics = new Map<string, string>();
  /** Rooms whose topic has been shown once: a reconnect's joins do not repeat it. */
  readonly #topicShown = new Set<string>();
  /** Rooms we were just kicked or banned from: the left that follows needs no line of its own. */
  readonly #removed = new Set<string>();

  constructor(target: DisplayTarget) {
    this.#target = target;
  }

  topic(room: string): string | undefined {
    return this.#topics.get(room);
  }

  /** A message or change entry, from history or (`live`) as it is said. */
  message(line: ChatLine, live = false): void {
    const { tabs, messages, reads } = this.#target;
    if (line.change) {
      const changed = messages.index.apply(line, this.#target.self().userId);
      this.#target.show({ kind: "change", entry: line, ...(changed ? { line: changed } : {}) });
      reads.seen(line.room, line.id);
      return;
    }
    const me = this.#target.self();
    if (!tabs.has(line.room)) this.#openTab(line.room);
    if (isDirectRoom(line.room) && !line.system && line.userId !== me.userId) {
      tabs.open(line.room, `@${line.username}`, false);
    }
    const mention = tabs.note(line, me.username);
    tabs.noteShown(line.room, line.id);
    // Told before the tabs, so the title changes once, naming this message.
    if (live) this.#target.arrived(line, mention);
    // The views know the room's name before they show its line.
    this.#target.tabsChanged();
    messages.index.record(line);
    const quote = messages.quoteFor(line);
    this.#target.show({ kind: "message", line, mention, ...(quote ? { quote } : {}) });
    reads.seen(line.room, line.id);
  }

  event(event: Exclude<LiveEvent, { type: "state" }>): void {
    const target = this.#target;
    switch (event.type) {
      case "message":
        this.message(event.message, true);
        return;
      case "presence": {
        if (target.joinLines()) return;
        const timeMs = Date.now();
        for (const [users, online] of [
          [event.left, false],
          [event.joined, true],
        ] as const) {
          if (users.length === 0) continue;
          const text = presenceText(
            users.map((u) => u.username),
            online,
          );
          target.show({ kind: "message", line: systemLine(event.room, text, timeMs) });
        }
        return;
      }
      case "read":
        target.reads.known(event.room, event.lastReadId);
        return;
      case "notify":
        target.notifyChanged(event.room, event.level);
        return;
      case "typing":
        target.typing(event.room, othersTyping(event.typing, target.self().userId));
        return;
      case "joined":
        target.reads.known(event.room, event.lastReadId);
        if (!target.tabs.has(event.room)) this.#openTab(event.room);
        this.#removed.delete(event.room);
        if (!isDirectRoom(event.room)) target.learnRoom(event.room);
        if (event.topic !== "") {
          this.#topics.set(event.room, event.topic);
          if (!this.#topicShown.has(event.room)) {
            this.#topicShown.add(event.room);
            target.show({ kind: "info", room: event.room, text: `Topic: ${event.topic}` });
          }
        }
        if (event.resume === "reset") {
          target.show({
            kind: "info",
            room: event.room,
            text: "The server's history does not go back to where this client left off (it was reset, or this is another server); showing new messages from here.",
          });
        }
        return;
      case "topic":
        // Who set it arrives as a system line of the log.
        this.#topics.set(event.room, event.topic);
        return;
      case "gap":
        target.show({
          kind: "info",
          room: event.room,
          text: `${event.toId - event.fromId + 1} messages are no longer on the server (removed by its retention) and cannot be shown.`,
        });
        return;
      case "left":
        if (event.code !== status.OK && this.#removed.delete(event.room)) {
          target.tabs.close(event.room);
          target.tabsChanged();
        } else if (event.code !== status.OK) {
          target.show({
            kind: "error",
            text: `Not in ${target.tabs.label(event.room)}: ${event.reason}`,
          });
          target.tabs.close(event.room);
          target.tabsChanged();
        }
        return;
      case "notice":
        target.show({ kind: "info", text: `Server: ${event.text}` });
        return;
      case "moderated": {
        const selfId = target.self().userId;
        // Not about a room: the room's tab closes, and the notice must stay in view.
        target.show({ kind: "info", text: moderatedText(event, selfId) });
        if ((event.kind === "kick" || event.kind === "ban") && event.user.userId === selfId) {
          this.#removed.add(event.room);
          target.tabs.close(event.room);
          target.tabsChanged();
        }
        return;
      }
      case "room_updated":
        for (const text of target.known.update(event.settings, target.self().userId)) {
          target.show({ kind: "info", room: event.room, text });
        }
        return;
      case "report":
        target.show({ kind: "info", text: reportText(event.report) });
        return;
    }
  }

  #openTab(room: string): void {
    const direct = isDirectRoom(room);
    this.#target.tabs.open(room, direct ? "@…" : `#${room}`, false);
    if (direct) this.#target.lookUpPeer(room);
    this.#target.tabsChanged();
  }
}
