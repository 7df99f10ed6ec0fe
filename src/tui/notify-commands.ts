import type { NotifyLevelName } from "../client/bot-calls.ts";
import { type ChatClient, ChatClientError } from "../client/chat-client.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import type { Notifier } from "./notify.ts";
import type { RoomTabs } from "./room-tabs.ts";

/** `/notify` alone asks (level undefined); with a level, sets it for the room shown. */
export type NotifyCommand = {
  readonly kind: "notify";
  readonly level: NotifyLevelName | undefined;
};

export type NotifyParse = NotifyCommand | { readonly kind: "usage"; readonly text: string };

export const NOTIFY_HELP: readonly string[] = [
  "/notify [all|mentions|off]  when this room rings the bell: every message, mentions of you (and direct messages), or never; alone: which",
];

const USAGE = "Usage: /notify [all|mentions|off]";
const LEVELS: readonly string[] = ["all", "mentions", "off"] satisfies NotifyLevelName[];

/** The notify command; undefined for any other command name. */
export function parseNotifyCommand(name: string, line: string): NotifyParse | undefined {
  if (name !== "/notify") return undefined;
  const args = line.trim().slice(name.length).trim();
  if (args === "") return { kind: "notify", level: undefined };
  return LEVELS.includes(args)
    ? { kind: "notify", level: args as NotifyLevelName }
    : { kind: "usage", text: USAGE };
}

/** What /notify needs of the controller. */
export interface NotifyContext {
  readonly client: ChatClient;
  readonly tabs: RoomTabs;
  readonly notifier: Notifier;
  /** The room shown. */
  current(): string;
  /** True when a room is shown; else says so and is false. */
  inRoom(): boolean;
  info(text: string): void;
  error(text: string): void;
}

/**
 * /notify for the room shown. The level is kept by the server, so every
 * session of the user (and the emails) follows it; asking reads it from the
 * server, where another session may have changed it.
 */
export class NotifyCommands {
  readonly #ctx: NotifyContext;

  constructor(ctx: NotifyContext) {
    this.#ctx = ctx;
  }

  async run(command: NotifyCommand): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx.inRoom()) return;
    const room = ctx.current();
    try {
      if (command.level === undefined) {
        const { rooms } = await ctx.client.listRooms({ pageSize: 1000 });
        ctx.notifier.take(rooms);
        const level = ctx.notifier.level(room);
        ctx.info(
          `${levelText(ctx.tabs.label(room), room, level).slice(0, -1)}; /notify ${LEVELS.join("|")}`,
        );
        return;
      }
      const level = await ctx.notifier.set(room, command.level, (r, l) =>
        ctx.client.notify.set(r, l),
      );
      ctx.info(levelText(ctx.tabs.label(room), room, level));
    } catch (error) {
      ctx.error(ChatClientError.from(error).message);
    }
  }
}

function levelText(label: string, room: string, level: NotifyLevelName): string {
  const what =
    level === "off"
      ? "off"
      : level === "all" || isDirectRoom(room)
        ? "every message rings the bell"
        : "mentions of you ring the bell";
  return `Notifications in ${label}: ${what} (${level}).`;
}
