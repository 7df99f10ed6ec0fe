import { Code } from "@connectrpc/connect";
import type { SearchHit as WireHit } from "../../../src/gen/chat_pb.js";
import { type ChatClient, failure } from "../api.ts";
import { type Line, toLine } from "./lines.ts";

/**
 * How long typing must pause before a search goes out: the server counts
 * searches per user and refuses past its rate, so a word typed is one search,
 * not one per letter.
 */
export const SEARCH_DELAY_MS = 300;
/** Hits per page: about a screenful of results. */
const PAGE_SIZE = 20;

/** [start, end) of a hit's text, in Unicode code points, as the server counts them. */
export interface CodePointRange {
  readonly start: number;
  readonly end: number;
}

export interface SearchResult {
  readonly line: Line;
  readonly highlights: readonly CodePointRange[];
}

export type SearchStatus = "idle" | "waiting" | "searching" | "done" | "failed";

/** What the results list shows. */
export interface SearchState {
  /** The query the hits answer (trimmed). */
  readonly query: string;
  readonly results: readonly SearchResult[];
  /** Another page can be asked for. */
  readonly more: boolean;
  readonly status: SearchStatus;
  /** The server's sentence when the query failed, INVALID_ARGUMENT's included. */
  readonly error: string;
}

const EMPTY: SearchState = { query: "", results: [], more: false, status: "idle", error: "" };

function toResult(hit: WireHit): SearchResult | undefined {
  if (hit.message === undefined) return undefined;
  return {
    line: toLine(hit.message),
    highlights: hit.highlights.map(({ start, end }) => ({ start, end })),
  };
}

/**
 * Searches as the user types: one call after typing pauses, one in flight at
 * a time (a newer query cancels the older call, and an answer to anything but
 * the latest request is dropped), then pages on by the server's token.
 */
export class SearchModel {
  readonly #client: ChatClient;
  readonly #changed: () => void;
  #state: SearchState = EMPTY;
  /** What the box holds, trimmed: what the next search is for. */
  #typed = "";
  #nextPageToken = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #call: AbortController | undefined;

  constructor(client: ChatClient, changed: () => void) {
    this.#client = client;
    this.#changed = changed;
  }

  get state(): SearchState {
    return this.#state;
  }

  /** The box's text changed: searched for once typing pauses. */
  type(text: string): void {
    const query = text.trim();
    if (query === this.#typed) return;
    this.#typed = query;
    clearTimeout(this.#timer);
    if (query === "") {
      this.#cancel();
      this.#set(EMPTY);
      return;
    }
    // The last query's error is about text no longer in the box.
    this.#set({ ...this.#state, status: "waiting", error: "" });
    this.#timer = setTimeout(() => void this.#run(query, ""), SEARCH_DELAY_MS);
  }

  /** Searches for what was typed at once (Enter), unless it is already shown or on its way. */
  now(): void {
    const query = this.#typed;
    const { status } = this.#state;
    if (query === "" || (query === this.#state.query && status !== "waiting")) return;
    clearTimeout(this.#timer);
    void this.#run(query, "");
  }

  /** The next page of the results shown. */
  more(): void {
    const { query, more, status } = this.#state;
    if (!more || status === "searching" || query !== this.#typed) return;
    void this.#run(query, this.#nextPageToken);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#cancel();
  }

  async #run(query: string, pageToken: string): Promise<void> {
    this.#cancel();
    const call = new AbortController();
    this.#call = call;
    const paging = pageToken !== "";
    this.#set({ ...this.#state, status: "searching" });
    try {
      const response = await this.#client.search(
        { query, pageToken, limit: PAGE_SIZE },
        { signal: call.signal },
      );
      if (this.#call !== call) return;
      const found = response.hits.flatMap((hit) => toResult(hit) ?? []);
      const earlier = paging ? this.#state.results : [];
      // A message edited between pages could come again: shown once.
      const shown = new Set(earlier.map(({ line }) => `${line.room}\n${line.id}`));
      const fresh = found.filter(({ line }) => !shown.has(`${line.room}\n${line.id}`));
      this.#nextPageToken = response.nextPageToken;
      this.#set({
        query,
        results: [...earlier, ...fresh],
        more: response.nextPageToken !== "",
        status: query === this.#typed ? "done" : "waiting",
        error: "",
      });
    } catch (error) {
      if (this.#call !== call) return;
      const { code, text, retryAfterMs } = failure(error);
      if (code === Code.ResourceExhausted && retryAfterMs !== undefined) {
        // Searching too fast: the same search goes again once the server allows it.
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => {
          if (query === this.#typed) void this.#run(query, pageToken);
        }, retryAfterMs);
      }
      this.#set({
        query,
        results: paging ? this.#state.results : [],
        more: paging && this.#state.more,
        status: "failed",
        error: text,
      });
    } finally {
      if (this.#call === call) this.#call = undefined;
    }
  }

  #cancel(): void {
    const call = this.#call;
    this.#call = undefined;
    call?.abort();
  }

  #set(state: SearchState): void {
    this.#state = state;
    this.#changed();
  }
}
