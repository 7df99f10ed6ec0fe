import { isDirectRoom } from "../../../src/wire/room-names.ts";
import type { ChatModel } from "../model/chat-model.ts";
import { highlightedPieces } from "../model/highlights.ts";
import type { SearchResult, SearchState } from "../model/search.ts";
import { el } from "./dom.ts";

/** About two lines of a result's text. */
const SNIPPET_CHARS = 160;

/** Where a hit was said: "# room", or "@ name" for a direct message. */
function roomLabel(model: ChatModel, result: SearchResult): string {
  const { room, userId, username } = result.line;
  const known = model.rooms.get(room);
  if (known !== undefined) return known.direct ? `@ ${known.label}` : `# ${known.name}`;
  if (!isDirectRoom(room)) return `# ${room}`;
  // A DM the page has not listed: the other person is the sender, unless it is us.
  return userId === model.me.userId ? "@ a direct message" : `@ ${username}`;
}

function timeOf(ms: number): HTMLTimeElement {
  const date = new Date(ms);
  const time = el(
    "time",
    "search-hit-time",
    date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" }),
  );
  time.dateTime = date.toISOString();
  return time;
}

/** One result as an option of the list: its room, sender and time, its text with the matches marked. */
export function resultElement(model: ChatModel, result: SearchResult, id: string): HTMLLIElement {
  const { line } = result;
  const item = el("li", "search-hit");
  item.id = id;
  item.setAttribute("role", "option");
  item.setAttribute("aria-selected", "false");
  item.dataset.room = line.room;
  item.dataset.id = String(line.id);
  const meta = el("div", "meta");
  meta.append(
    el("span", "search-hit-room", roomLabel(model, result)),
    el("span", "search-hit-author", line.username),
    timeOf(line.timeMs),
  );
  const text = el("div", "search-hit-text");
  for (const piece of highlightedPieces(line.text, result.highlights, SNIPPET_CHARS)) {
    text.append(piece.marked ? el("mark", "", piece.text) : piece.text);
  }
  item.append(meta, text);
  return item;
}

/** The line above the results: what the search is doing, or that it found nothing. */
export function statusText(state: SearchState): string {
  const count = state.results.length;
  switch (state.status) {
    case "idle":
      return "";
    case "waiting":
    case "searching":
      return count > 0 ? `Searching… (showing ${count} for “${state.query}”)` : "Searching…";
    case "failed":
      return count > 0 ? `${count} shown.` : "";
    case "done":
      if (count === 0) return `No results for “${state.query}”.`;
      return `${count}${state.more ? "+" : ""} ${count === 1 ? "result" : "results"}, newest first.`;
  }
}
