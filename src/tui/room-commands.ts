import type { ChatClient } from "../client/chat-client.ts";
import { ChatClientError } from "../client/chat-client.ts";
import type { LiveChat } from "../client/live-chat.ts";
import { isDirectRoom, isPublicRoomName, roomNameRule } from "../wire/room-names.ts";
import type { Command } from "./commands.ts";
import { BOT_MARK } from "./message-text.ts";
import type { RoomTabs } from "./room-tabs.ts";

/** What the room commands need of the controller. */
export interface RoomContext {
  readonly client: ChatClient;
  readonly tabs: RoomTabs;
  live(): LiveChat | undefined;
  topic(room: string): string | undefined;
  info(text: string): void;
  error(text: string): void;
  tabsChanged(): void;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  /** The server's longest room name; undefined when not known. */
  maxRoomChars(): number | undefined;
  /** Shows a room's newest messages; resolves to the newest id shown (undefined: failed). */
  showHistory(room: string, count: number): Promise<number | undefined>;
  send(text: string, room: string): void;
}

const HISTORY_ON_JOIN = 5;

/** The terminal client's room commands: /join (a room, or an invite code), /leave, /switch, /rooms, /who, /topic, /msg. */
export class RoomCommands {
  readonly #ctx: RoomContext;

  constructor(ctx: RoomContext) {
    this.#ctx = ctx;
  }

  async run(command: Command): Promise<void> {
    const ctx = this.#ctx;
    try {
      switch (command.kind) {
        case "join": {
          const max = ctx.maxRoomChars();
          const { room } = command;
          const invalid = max !== undefined && !isDirectRoom(room) && !isPublicRoomName(room, max);
          // A name no room can have may still be a code (should their shape change).
          if (command.code !== undefined || (invalid && /^[\w-]+$/.test(room))) {
            return await this.#redeem(command.code ?? room, !invalid);
          }
          if (invalid) return ctx.error(roomNameRule(max));
          return await this.enter(room, `#${room}`);
        }
        case "leave": {
          const room = command.room ?? ctx.tabs.current;
          if (!ctx.tabs.has(room)) return ctx.error(`You are not in ${room}.`);
          const label = ctx.tabs.label(room);
          ctx.live()?.leave(room);
          ctx.tabs.close(room);
          ctx.tabsChanged();
          return ctx.info(`You left ${label}.`);
        }
        case "switch": {
          const room = ctx.tabs.find(command.name);
          if (room === undefined) return ctx.error(`No open room is called ${command.name}.`);
          ctx.tabs.show(room);
          return ctx.tabsChanged();
        }
        case "rooms": {
          const { rooms } = await ctx.client.listRooms();
          ctx.info(rooms.length === 0 ? "No rooms yet." : `${rooms.length} rooms:`);
          for (const r of rooms) {
            const name = r.peer ? `@${r.peer.username || "?"}` : `#${r.room}`;
            const topic = r.topic ? ` - ${r.topic}` : "";
            const mentioned = r.mentions > 0 ? ` (${r.mentions} mention you)` : "";
            const unread = r.unread > 0 ? `, ${r.unread} unread${mentioned}` : "";
            ctx.info(`${name}  ${r.online} online, newest message #${r.lastId}${unread}${topic}`);
          }
          return;
        }
        case "who": {
          if (!ctx.inRoom()) return;
          const room = ctx.tabs.current;
          const { members, onlineCount } = await ctx.client.listMembers({ room });
          const names = members
            .map((m) => (m.bot ? `${m.username} ${BOT_MARK}` : m.username))
            .join(", ");
          const more =
            onlineCount > members.length ? ` and ${onlineCount - members.length} more` : "";
          return ctx.info(`Online in ${ctx.tabs.label(room)} (${onlineCount}): ${names}${more}`);
        }
        case "topic": {
          if (!ctx.inRoom()) return;
          const room = ctx.tabs.current;
          if (command.text !== undefined) return await ctx.client.setTopic(room, command.text);
          const topic = ctx.topic(room);
          return ctx.info(
            topic ? `Topic of ${ctx.tabs.label(room)}: ${topic}` : "No topic is set.",
          );
        }
        case "msg": {
          const { room, peer } = await ctx.client.openDirect(command.name);
          await this.enter(room, `@${peer.username}`);
          return ctx.send(command.text, room);
        }
      }
    } catch (error) {
      ctx.error(ChatClientError.from(error).message);
    }
  }

  /**
   * Opens a room and shows it: its last few messages, then live from just
   * after them. An open room is only shown. With `quiet` (a search hit shows
   * its own page), no messages are shown, and live starts after the newest.
   */
  async enter(room: string, label: string, options: { quiet?: boolean } = {}): Promise<void> {
    const ctx = this.#ctx;
    const live = ctx.live();
    if (!live) return;
    if (ctx.tabs.has(room)) {
      ctx.tabs.open(room, label, true);
      return ctx.tabsChanged();
    }
    // Asked first: a room this user may not use says so here, before a tab opens.
    const { messages } = await ctx.client.history({ room, limit: 1 });
    ctx.tabs.open(room, label, true);
    ctx.tabsChanged();
    const newest = options.quiet
      ? messages.at(-1)?.id
      : await ctx.showHistory(room, HISTORY_ON_JOIN);
    live.join(newest === undefined ? { room } : { room, resumeAfterId: newest });
  }

  /** Uses an invite code, then enters its room; `couldBeRoom`: the code is a room's name too. */
  async #redeem(code: string, couldBeRoom: boolean): Promise<void> {
    const ctx = this.#ctx;
    let room: string;
    try {
      room = await ctx.client.governance.redeemInvite(code);
    } catch (error) {
      const hint = couldBeRoom ? ` To enter a room of that name, type /join #${code}` : "";
      return ctx.error(`${ChatClientError.from(error).message}${hint}`);
    }
    ctx.info(`The invite lets you into #${room}.`);
    await this.enter(room, `#${room}`);
  }

  /** Names a direct-message tab after the other user, from the room list. */
  async lookUpPeer(room: string): Promise<void> {
    const ctx = this.#ctx;
    try {
      const { rooms } = await ctx.client.listRooms();
      const peer = rooms.find((r) => r.room === room)?.peer?.username;
      if (peer && ctx.tabs.label(room) === "@…") {
        ctx.tabs.open(room, `@${peer}`, false);
        ctx.tabsChanged();
      }
    } catch {
      // The tab keeps "@…" until a message from them names it.
    }
  }
}
