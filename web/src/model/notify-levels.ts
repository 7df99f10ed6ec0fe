import { mentions } from "../../../src/client/chat-line.ts";
import { NotifyLevel } from "../../../src/gen/chat_pb.js";
import { call } from "./actions.ts";
import type { ChatModel } from "./chat-model.ts";
import type { Line } from "./lines.ts";
import type { Room } from "./room.ts";

/** How the user is told about a room: every message, mentions (every message in a DM), or nothing. */
export type Level = "all" | "mentions" | "off";

const WIRE: Record<Level, NotifyLevel> = {
  all: NotifyLevel.ALL,
  mentions: NotifyLevel.MENTIONS,
  off: NotifyLevel.OFF,
};

/** Unspecified (a server that keeps no level, or none set) is the default, mentions. */
export function levelFromWire(level: NotifyLevel): Level {
  if (level === NotifyLevel.ALL) return "all";
  return level === NotifyLevel.OFF ? "off" : "mentions";
}

/** A message that calls for the user's attention: shown as a browser notification when the page is hidden. */
export type AlertListener = (room: Room, line: Line) => void;

/**
 * The user's notification level per room, kept on the server (so every
 * client and the emails follow one choice): read from ListRooms, changed with
 * SetNotify. From them, how many unread messages ask for attention, and which
 * arriving messages do.
 */
export class NotifyLevels {
  readonly #model: ChatModel;
  readonly #levels = new Map<string, Level>();
  /** Rooms whose SetNotify is unanswered: a room list counted before it must not undo it. */
  readonly #setting = new Set<string>();
  readonly #listeners = new Set<AlertListener>();

  constructor(model: ChatModel) {
    this.#model = model;
  }

  of(room: string): Level {
    return this.#levels.get(room) ?? "mentions";
  }

  /** The level ListRooms gave. */
  listed(room: string, level: NotifyLevel): void {
    if (!this.#setting.has(room)) this.#levels.set(room, levelFromWire(level));
  }

  /** The server says the level changed, set on this page or another session. */
  heard(room: string, level: NotifyLevel): void {
    this.#levels.set(room, levelFromWire(level));
    this.#model.changed("rooms");
  }

  /** Stores the level on the server; throws the server's sentence when refused. */
  async set(room: string, level: Level): Promise<Level> {
    this.#setting.add(room);
    try {
      const answer = await call(this.#model.client.setNotify({ room, level: WIRE[level] }));
      const now = levelFromWire(answer.level);
      this.#levels.set(room, now);
      return now;
    } finally {
      this.#setting.delete(room);
      this.#model.changed("rooms");
    }
  }

  /** Unread messages of one room that count at its level. */
  count(room: Room): number {
    const level = this.of(room.name);
    if (level === "off") return 0;
    const { count, mentions: named } = room.unread(this.#model.me.userId, this.#model.me.name);
    return level === "all" || room.direct ? count : named;
  }

  /**
   * The tab's count: every room's, the one in front only while the page is
   * hidden (in view, its messages are being read).
   */
  total(): number {
    const model = this.#model;
    let total = 0;
    for (const room of model.rooms.values()) {
      if (room.name !== model.current || !model.visible) total += this.count(room);
    }
    return total;
  }

  onAlert(listener: AlertListener): void {
    this.#listeners.add(listener);
  }

  stop(): void {
    this.#listeners.clear();
  }

  /** A message the stream brought for the first time: listeners hear it if it calls for attention. */
  arrived(room: Room, line: Line): void {
    const { userId, name } = this.#model.me;
    if (line.system || line.deleted || line.userId === userId || line.id <= room.readId) return;
    // Replay after a reconnect would bring a burst from busy rooms; a DM's
    // first message arrives that way too (the server joins us from just before it).
    if (!room.caughtUp && !room.direct) return;
    const level = this.of(room.name);
    if (level === "off") return;
    if (level === "mentions" && !room.direct && !mentions(line.text, name)) return;
    for (const listener of this.#listeners) listener(room, line);
  }
}
