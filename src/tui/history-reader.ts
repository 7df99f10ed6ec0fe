import { type ChatClient, ChatClientError, type ChatLine } from "../client/chat-client.ts";
import type { DisplayItem } from "./chat-view.ts";
import type { RoomTabs } from "./room-tabs.ts";
import { SEED_HISTORY_KEPT } from "./seed-mode.ts";

/** What reading history needs of the controller. */
export interface HistoryContext {
  readonly client: ChatClient;
  readonly tabs: RoomTabs;
  /** The server speaks only the seed's protocol: GetChatHistory, no pages. */
  seedOnly(): boolean;
  show(item: DisplayItem): void;
  /** Older items, above everything shown; undefined when the view has no such place. */
  readonly prepend: ((items: readonly DisplayItem[]) => void) | undefined;
  /** A message, as the live ones are shown. */
  message(line: ChatLine): void;
  error(text: string): void;
}

const OLDER_PAGE = 50;

/** A room's history in the terminal client: the newest messages (/history), and older pages (Page Up). */
export class HistoryReader {
  readonly #ctx: HistoryContext;

  constructor(ctx: HistoryContext) {
    this.#ctx = ctx;
  }

  /** Shows a room's newest `count` messages; resolves to the newest id shown (0: none; undefined: failed). */
  async show(room: string, count: number): Promise<number | undefined> {
    const ctx = this.#ctx;
    try {
      const messages = ctx.seedOnly()
        ? await ctx.client.seedHistory(count)
        : (await ctx.client.history({ room, limit: count, includeSystem: true })).messages;
      const text = messages.length === 0 ? "No messages yet." : `Last ${messages.length} messages:`;
      ctx.show({ kind: "info", room, text });
      for (const line of messages) ctx.message(line);
      return messages.at(-1)?.id ?? 0;
    } catch (error) {
      ctx.error(`History failed: ${ChatClientError.from(error).message}`);
      return undefined;
    }
  }

  /** Loads the page of `room`'s history before its oldest message shown. */
  async loadOlder(room: string): Promise<void> {
    const ctx = this.#ctx;
    const { oldestId, exhausted } = ctx.tabs.older(room);
    if (exhausted || !ctx.prepend) return;
    if (ctx.seedOnly()) {
      // The seed pages nothing: its history is the newest n, which /history asks for.
      ctx.tabs.exhausted(room);
      const text = `This server has no older pages; /history n shows up to its last ${SEED_HISTORY_KEPT} messages.`;
      ctx.prepend([{ kind: "info", room, text }]);
      return;
    }
    try {
      const { messages, hasMore } = await ctx.client.history({
        room,
        limit: OLDER_PAGE,
        includeSystem: true,
        ...(oldestId > 0 ? { beforeId: oldestId } : {}),
      });
      const items: DisplayItem[] = messages.map((line) => ({ kind: "message", line }));
      if (!hasMore) {
        ctx.tabs.exhausted(room);
        items.unshift({ kind: "info", room, text: "The beginning of the history." });
      }
      for (const line of messages) ctx.tabs.noteShown(room, line.id);
      ctx.prepend(items);
    } catch (error) {
      ctx.error(`Older messages failed: ${ChatClientError.from(error).message}`);
    }
  }
}
