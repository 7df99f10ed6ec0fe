import {
  type ChatClient,
  ChatClientError,
  type ChatLine,
  type SearchHit,
} from "../client/chat-client.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import type { DisplayItem } from "./chat-view.ts";
import type { RoomCommands } from "./room-commands.ts";
import type { RoomTabs } from "./room-tabs.ts";
import { hitLine } from "./search-results.ts";

/** What a line typed to search asks for. */
export type SearchCommand =
  | { readonly kind: "search"; readonly query: string }
  | { readonly kind: "more" }
  | { readonly kind: "goto"; readonly number: number };

export type SearchParse = SearchCommand | { readonly kind: "usage"; readonly text: string };

export const SEARCH_HELP: readonly string[] = [
  '/search words  find messages: "a phrase", -word, from:name, in:#room, after:YYYY-MM-DD, has:link',
  "/more         more hits of the last search; /goto N opens hit N in its room",
];

const SEARCH_USAGE =
  'Usage: /search words (also "a phrase", -word, from:name, in:#room or in:@name, after:YYYY-MM-DD, before:YYYY-MM-DD, has:link)';

/** The search commands; undefined for any other command name. */
export function parseSearchCommand(name: string, line: string): SearchParse | undefined {
  const args = line.trim().slice(name.length).trim();
  switch (name) {
    case "/search":
      return args === "" ? { kind: "usage", text: SEARCH_USAGE } : { kind: "search", query: args };
    case "/more":
      return args === "" ? { kind: "more" } : { kind: "usage", text: "Usage: /more" };
    case "/goto": {
      const number = Number(args.replace(/^#/, ""));
      return /^#?\d+$/.test(args) && Number.isSafeInteger(number) && number > 0
        ? { kind: "goto", number }
        : { kind: "usage", text: "Usage: /goto N, where N is a hit's number from /search" };
    }
    default:
      return undefined;
  }
}

/** What searching needs of the controller. */
export interface SearchContext {
  readonly client: ChatClient;
  readonly tabs: RoomTabs;
  readonly rooms: RoomCommands;
  /** An item as it is, for lines that belong to one room. */
  show(item: DisplayItem): void;
  /** A message, as the live ones are shown. */
  message(line: ChatLine): void;
  /** The server speaks only the seed's protocol, which has no search. */
  seedOnly(): boolean;
  info(text: string): void;
  error(text: string): void;
}

/** Hits per page: with the lines around them, they fit a screen. */
const HITS_PER_PAGE = 10;
/** Messages shown around a hit that /goto opens. */
const AROUND_HIT = 10;

/** The last search: its hits so far, numbered from 1 across pages, and where the next page starts. */
interface SearchState {
  readonly query: string;
  readonly hits: SearchHit[];
  /** Each hit's room as it was shown. */
  readonly labels: Map<string, string>;
  nextPageToken: string;
}

/** The terminal client's /search, /more and /goto. */
export class SearchCommands {
  readonly #ctx: SearchContext;
  #last: SearchState | undefined;

  constructor(ctx: SearchContext) {
    this.#ctx = ctx;
  }

  async run(command: SearchCommand): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.seedOnly()) {
      return ctx.error(
        "Searching is not available: this server speaks only the original chat protocol, which has no search.",
      );
    }
    try {
      switch (command.kind) {
        case "search":
          return await this.#search(command.query);
        case "more":
          return await this.#more();
        case "goto":
          return await this.#goto(command.number);
      }
    } catch (error) {
      // The server's sentence says what to change (a query it cannot parse, a rate).
      ctx.error(ChatClientError.from(error).message);
    }
  }

  async #search(query: string): Promise<void> {
    const page = await this.#ctx.client.search({ query, limit: HITS_PER_PAGE });
    // Replaced only once the new search has answered: a refused one leaves /goto on the last.
    const state: SearchState = {
      query,
      hits: [],
      labels: new Map(),
      nextPageToken: page.nextPageToken,
    };
    this.#last = state;
    if (page.hits.length === 0) return this.#ctx.info(`No messages match ${query}.`);
    this.#ctx.info(`Messages matching ${query}, newest first:`);
    await this.#list(state, page.hits);
  }

  async #more(): Promise<void> {
    const state = this.#last;
    if (state === undefined) return this.#ctx.info("/more goes on with a search: /search first.");
    if (state.nextPageToken === "") return this.#ctx.info("There are no more hits.");
    const page = await this.#ctx.client.search({
      query: state.query,
      limit: HITS_PER_PAGE,
      pageToken: state.nextPageToken,
    });
    state.nextPageToken = page.nextPageToken;
    this.#ctx.info(`More messages matching ${state.query}:`);
    await this.#list(state, page.hits);
  }

  /** Numbers and shows a page of hits after those already shown, then says what can follow. */
  async #list(state: SearchState, hits: readonly SearchHit[]): Promise<void> {
    await this.#label(state, hits);
    const nowMs = Date.now();
    for (const hit of hits) {
      state.hits.push(hit);
      const room = state.labels.get(hit.message.room) ?? hit.message.room;
      this.#ctx.info(hitLine(state.hits.length, hit, room, nowMs));
    }
    this.#ctx.info(
      state.nextPageToken === ""
        ? "/goto N opens hit N in its room."
        : "/more shows more hits; /goto N opens hit N in its room.",
    );
  }

  /** How each hit's room reads: its tab's name, "#room", or "@someone" for a direct message. */
  async #label(state: SearchState, hits: readonly SearchHit[]): Promise<void> {
    const { tabs, client } = this.#ctx;
    let unnamed = false;
    for (const { message } of hits) {
      const { room } = message;
      if (state.labels.has(room)) continue;
      if (tabs.has(room)) state.labels.set(room, tabs.label(room));
      else if (!isDirectRoom(room)) state.labels.set(room, `#${room}`);
      else unnamed = true;
    }
    if (!unnamed) return;
    try {
      const { rooms } = await client.listRooms({ pageSize: 1000 });
      for (const r of rooms) if (r.peer) state.labels.set(r.room, `@${r.peer.username || "…"}`);
    } catch {
      // A direct message the list did not name is shown as "@…".
    }
    for (const { message } of hits) {
      if (!state.labels.has(message.room)) state.labels.set(message.room, "@…");
    }
  }

  /**
   * Opens hit `number`'s room (entering it if it is not open) and shows the
   * page of history around it, the hit marked. The page is asked for first:
   * a hit deleted since, or a room closed to us since, says so before any
   * room is entered.
   */
  async #goto(number: number): Promise<void> {
    const ctx = this.#ctx;
    const state = this.#last;
    const hit = state?.hits[number - 1];
    if (state === undefined || hit === undefined) {
      const found = state?.hits.length ?? 0;
      const why =
        state === undefined
          ? "/search first"
          : found === 0
            ? "the last search found nothing"
            : `the last search shows hits 1-${found}`;
      return ctx.error(`There is no hit ${number}: ${why}.`);
    }
    const { room, id } = hit.message;
    const page = await ctx.client.history({ room, aroundId: id, limit: AROUND_HIT });
    const label = ctx.tabs.has(room)
      ? ctx.tabs.label(room)
      : (state.labels.get(room) ?? (isDirectRoom(room) ? "@…" : `#${room}`));
    // A room opened here shows only the page around the hit, not also its newest messages.
    await ctx.rooms.enter(room, label, { quiet: true });
    if (!ctx.tabs.has(room)) return;
    if (label === "@…") void ctx.rooms.lookUpPeer(room);
    ctx.show({
      kind: "info",
      room,
      text: `Search hit ${number} in ${label}, and the messages around it:`,
    });
    for (const line of page.messages) {
      if (line.id === id) ctx.show({ kind: "info", room, text: `── search hit ${number} ──` });
      ctx.message(line);
    }
    if (page.hasNewer) {
      ctx.show({ kind: "info", room, text: "Newer messages follow; /history shows the newest." });
    }
  }
}
