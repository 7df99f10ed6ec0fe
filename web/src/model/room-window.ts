import type { HistoryPage } from "../../../src/gen/chat_pb.js";
import { isDirectRoom } from "../../../src/wire/room-names.ts";
import { failure } from "../api.ts";
import type { ChatModel } from "./chat-model.ts";
import { fill } from "./history.ts";
import { isChange, type Line, toLine } from "./lines.ts";
import { type Item, Room } from "./room.ts";

/** Messages per page, as the room's own history loads them. */
const PAGE = 50;

/**
 * A room opened at an older message (a search hit) rather than at its
 * newest: what is loaded runs from there up to `newest`, and the room's
 * later messages are not loaded yet. Lines the stream delivers meanwhile are
 * kept in the room but not shown, so nothing appears after a hidden gap;
 * pages loaded forward close the gap, and then the room is whole again.
 */
interface Window {
  /** The newest id of the run shown from the opened message on. */
  newest: number;
  loadingNewer: boolean;
  /** Why the last page forward failed ("" when it did not). */
  error: string;
  /** Sends queued before the room was opened here: a later one brings the room back to its newest. */
  readonly sendsBefore: ReadonlySet<string>;
}

const windows = new WeakMap<Room, Window>();

/** The room's window, while it is open at an older message. */
function windowOf(room: Room): Window | undefined {
  const window = windows.get(room);
  // A reset history (Room.clear) took the window's messages with it.
  if (window !== undefined && !room.has(window.newest)) {
    windows.delete(room);
    return undefined;
  }
  return window;
}

/** While the room shows an older stretch: whether a page forward is loading, and why the last failed. */
export function olderStretch(room: Room): { loading: boolean; error: string } | undefined {
  const window = windowOf(room);
  return window && { loading: window.loadingNewer, error: window.error };
}

/** What the message list draws: the room's items, up to the gap when it is open at an older message. */
export function shownItems(room: Room): readonly Item[] {
  const items = room.items();
  const window = windowOf(room);
  if (window === undefined) return items;
  const position = (item: Item) => (item.kind === "line" ? item.line.id : item.notice.afterId);
  const end = items.findIndex((item) => position(item) > window.newest);
  return end < 0 ? items : items.slice(0, end);
}

/** Whether the message is loaded and drawn (not behind the gap). */
export function isShown(room: Room, id: number): boolean {
  const window = windowOf(room);
  return room.has(id) && (window === undefined || id <= window.newest);
}

function merge(model: ChatModel, room: Room, page: HistoryPage): void {
  const lines: Line[] = [];
  for (const message of page.messages) {
    const line = toLine(message);
    if (isChange(line)) room.applyChange(line, model.me.userId);
    else lines.push(line);
  }
  room.merge(lines, model.me.userId);
}

/**
 * The room's messages become exactly this page, and lines the stream
 * delivered after it (while the page was on its way) stay.
 */
function replaceWith(model: ChatModel, room: Room, page: HistoryPage): void {
  const last = Number(page.messages.at(-1)?.id ?? 0);
  const later = room
    .items()
    .flatMap((item) => (item.kind === "line" && item.line.id > last ? [item.line] : []));
  room.clear();
  room.merge(later, model.me.userId);
  merge(model, room, page);
  room.filled = true;
  room.loaded = true;
  room.hasOlder = page.hasMore;
  room.placeDivider(model.me.userId);
}

/** Makes `name` the room shown, joining it (or opening the DM) when the page is not in it. */
function show(model: ChatModel, name: string): Room {
  const known = model.rooms.get(name);
  if (known !== undefined) model.select(name);
  else if (isDirectRoom(name)) {
    model.rooms.set(name, new Room(name, { open: false }));
    model.select(name);
  } else model.join(name);
  const room = model.rooms.get(name);
  if (room === undefined) throw new Error(`Could not open ${name}.`);
  return room;
}

/**
 * Shows room `name` with message `id` loaded: as it is when the message is
 * already drawn, else from History's page around it, older and newer pages
 * loading from there. Throws an Error with a sentence when it cannot.
 */
export async function openAt(model: ChatModel, name: string, id: number): Promise<void> {
  const room = show(model, name);
  if (isShown(room, id)) return;
  // The page around the message takes the place of the room's newest page.
  const filled = room.filled;
  room.filled = true;
  let page: HistoryPage;
  try {
    page = await model.client.history({ room: name, aroundId: BigInt(id), limit: PAGE });
  } catch (error) {
    room.filled = filled;
    if (!filled && room.joined) void fill(model, room);
    throw new Error(failure(error).text);
  }
  replaceWith(model, room, page);
  windows.delete(room);
  const newest = Number(page.messages.at(-1)?.id ?? id);
  if (page.hasNewer) {
    const sendsBefore = new Set(model.outbox.items.map((send) => send.clientMsgId));
    windows.set(room, { newest, loadingNewer: false, error: "", sendsBefore });
  }
  model.changed("messages");
  model.changed("rooms");
}

/** The page after the stretch shown (scrolling down); the gap closes when the server has no more. */
export async function loadNewer(model: ChatModel, room: Room): Promise<void> {
  const window = windowOf(room);
  if (window === undefined || window.loadingNewer) return;
  window.loadingNewer = true;
  window.error = "";
  model.changed("messages");
  try {
    // Around the newest shown rather than after it: a page after an id is
    // log entries without reactions, a page around one is messages as they
    // stand now. Its older half is shown already and merges as nothing.
    const aroundId = BigInt(window.newest);
    const page = await model.client.history({ room: room.name, aroundId, limit: 2 * PAGE });
    merge(model, room, page);
    window.newest = Number(page.messages.at(-1)?.id ?? window.newest);
    if (!page.hasNewer) windows.delete(room);
  } catch (error) {
    window.error = `Could not load newer messages: ${failure(error).text}`;
  } finally {
    window.loadingNewer = false;
  }
  model.changed("messages");
}

/**
 * Back to the room's newest page, as if it had just been opened;
 * `replacing` runs just before the messages are replaced.
 */
export async function backToNewest(
  model: ChatModel,
  room: Room,
  replacing: () => void,
): Promise<void> {
  const window = windowOf(room);
  if (window === undefined) return;
  window.error = "";
  try {
    const page = await model.client.history({ room: room.name, limit: PAGE });
    replacing();
    windows.delete(room);
    replaceWith(model, room, page);
  } catch (error) {
    window.error = `Could not load the newest messages: ${failure(error).text}`;
  }
  model.changed("messages");
}

/** A message was sent in the room since it was opened at an older one: it belongs at the newest. */
export function sentSinceOpened(model: ChatModel, room: Room): boolean {
  const window = windowOf(room);
  if (window === undefined) return false;
  return model.outbox.items.some(
    (send) => send.room === room.name && !window.sendsBefore.has(send.clientMsgId),
  );
}
