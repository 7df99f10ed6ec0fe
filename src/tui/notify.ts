import type { Writable } from "node:stream";
import type { NotifyLevelName } from "../client/bot-calls.ts";
import type { ChatLine, RoomEntry } from "../client/chat-client.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import { inert } from "./format.ts";
import type { RoomTabs } from "./room-tabs.ts";

export const BEL = "\u0007";
/** The terminal's title when nothing waits to be read. */
export const APP_TITLE = "grpc-chat";
/** A burst of messages rings once, and once more at the end of the second if more came. */
export const BELL_EVERY_MS = 1_000;
/** Titles are shown in narrow places (tabs, task bars); a long room name is cut. */
const TITLE_CHARS = 80;

/** How a view tells a person who is not looking: a bell, and (full screen) the terminal's title. */
export interface TerminalSignals {
  bell(): void;
  title?(text: string): void;
}

/**
 * Signals written to a terminal: BEL, and OSC 0 for the title. The title
 * the terminal had is pushed onto its title stack before the first change,
 * so `restore` can give it back on exit; terminals without the stack ignore
 * both.
 */
export function terminalSignals(output: Writable): Required<TerminalSignals> & {
  restore(): void;
} {
  let pushed = false;
  return {
    bell: () => output.write(BEL),
    title(text) {
      if (!pushed) output.write("\u001b[22;0t");
      pushed = true;
      output.write(`\u001b]0;${inert(text)}${BEL}`);
    },
    restore() {
      if (pushed) output.write("\u001b[23;0t");
      pushed = false;
    },
  };
}

/** What the notifier needs of the controller. */
export interface NotifierContext {
  readonly tabs: RoomTabs;
  /** Where to ring and title; undefined when the view does neither (piped, or the seed's server). */
  signals(): TerminalSignals | undefined;
  /** Our public id: our own messages never notify. */
  selfId(): string;
  now?(): number;
}

/**
 * Which messages call for the user, by each room's level as the server keeps
 * it ("all", "mentions": mentions and direct messages, "off"): the bell for
 * each (at most one a second), and a title counting what calls for them and
 * is unread, as the tabs count unread messages and mentions.
 */
export class Notifier {
  readonly #ctx: NotifierContext;
  readonly #levels = new Map<string, NotifyLevelName>();
  /** Rooms whose level is being set: a room list answered meanwhile has the old one. */
  readonly #setting = new Map<string, number>();
  #lastBellMs = Number.NEGATIVE_INFINITY;
  #bellTimer: NodeJS.Timeout | undefined;
  /** The room and words of the newest message that called, for the title. */
  #latest: { room: string; text: string } | undefined;
  /** The title last set; the terminal's own until a count first calls for a change. */
  #title = APP_TITLE;

  constructor(ctx: NotifierContext) {
    this.#ctx = ctx;
  }

  /** A room's level; a room the server has not listed yet has the server's default. */
  level(room: string): NotifyLevelName {
    return this.#levels.get(room) ?? "mentions";
  }

  /** Sets a room's level with `call` (the server, which answers the level now set). */
  async set(
    room: string,
    level: NotifyLevelName,
    call: (room: string, level: NotifyLevelName) => Promise<NotifyLevelName>,
  ): Promise<NotifyLevelName> {
    this.#setting.set(room, (this.#setting.get(room) ?? 0) + 1);
    try {
      const now = await call(room, level);
      this.#levels.set(room, now);
      this.tabsChanged();
      return now;
    } finally {
      const left = (this.#setting.get(room) ?? 1) - 1;
      if (left > 0) this.#setting.set(room, left);
      else this.#setting.delete(room);
    }
  }

  /** The server says a room's level changed (set on this session or another). */
  changed(room: string, level: NotifyLevelName): void {
    this.#levels.set(room, level);
    this.tabsChanged();
  }

  /** The levels the server lists rooms with. */
  take(rooms: readonly RoomEntry[]): void {
    for (const r of rooms) if (!this.#setting.has(r.room)) this.#levels.set(r.room, r.notify);
  }

  /** A live message arrived (not history); `mention` when it names the user. */
  arrived(line: ChatLine, mention: boolean): void {
    const signals = this.#ctx.signals();
    if (!signals || !this.#calls(line, mention)) return;
    const label = this.#ctx.tabs.label(line.room);
    this.#latest = {
      room: line.room,
      text: isDirectRoom(line.room) ? label : `@${line.username} in ${label}`,
    };
    this.#ring(signals);
    this.tabsChanged();
  }

  /** The tabs' counts changed (a message, a room read here or in another session): the title follows. */
  tabsChanged(): void {
    const signals = this.#ctx.signals();
    if (!signals?.title) return;
    let count = 0;
    let latestCounts = false;
    for (const tab of this.#ctx.tabs.list()) {
      const level = this.level(tab.room);
      const calling =
        level === "off" ? 0 : level === "all" || isDirectRoom(tab.room) ? tab.unread : tab.mentions;
      count += calling;
      if (tab.room === this.#latest?.room && calling > 0) latestCounts = true;
    }
    const about = latestCounts && this.#latest ? `: ${this.#latest.text}` : "";
    const title = count > 0 ? `(${count}) ${APP_TITLE}${about}`.slice(0, TITLE_CHARS) : APP_TITLE;
    if (title === this.#title) return;
    this.#title = title;
    signals.title(title);
  }

  /** The chat is closing: a bell still due is not rung. */
  close(): void {
    clearTimeout(this.#bellTimer);
    this.#bellTimer = undefined;
  }

  #calls(line: ChatLine, mention: boolean): boolean {
    if (line.system || line.change || line.userId === this.#ctx.selfId()) return false;
    const level = this.level(line.room);
    if (level === "off") return false;
    return level === "all" || mention || isDirectRoom(line.room);
  }

  #ring(signals: TerminalSignals): void {
    const now = this.#ctx.now?.() ?? Date.now();
    const wait = this.#lastBellMs + BELL_EVERY_MS - now;
    if (wait <= 0) {
      this.#lastBellMs = now;
      signals.bell();
      return;
    }
    // Rung at the end of the quiet second, once, however many came meanwhile.
    this.#bellTimer ??= setTimeout(() => {
      this.#bellTimer = undefined;
      this.#lastBellMs = this.#ctx.now?.() ?? Date.now();
      this.#ctx.signals()?.bell();
    }, wait);
  }
}
