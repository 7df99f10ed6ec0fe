import { CHANGE_KINDS, type HistoryOptions, type Store } from "../store/store.ts";
import { ChatError } from "./chat-error.ts";
import type { MessageId, RoomId, StoredMessage, UserId } from "./types.ts";

/** Log entries read per step while finding the newer half's messages among change entries. */
const SCAN_STEP = 200;
/** Steps at most: past this many change entries the newer half is shorter, and says there is more. */
const MAX_SCAN_STEPS = 20;

export interface AroundPage {
  /** Oldest first, the message asked for among them. */
  readonly messages: StoredMessage[];
  readonly hasMore: boolean;
  readonly hasNewer: boolean;
}

/**
 * The page of `limit` messages with `aroundId` in its middle, as a search
 * hit opens its room: about half older (the message included), half newer,
 * each in its current state like any History page. `newest` is how the room
 * reads backwards (from its tail when it can).
 */
export async function historyAround(
  store: Store,
  newest: (room: RoomId, options: HistoryOptions) => Promise<StoredMessage[]>,
  query: {
    readonly room: RoomId;
    readonly aroundId: MessageId;
    readonly limit: number;
    readonly includeSystem: boolean;
    readonly reader: UserId | undefined;
  },
): Promise<AroundPage> {
  const { room, aroundId, limit, includeSystem, reader } = query;
  const target = await store.message(room, aroundId);
  if (!target || (target.kind === "system" && !includeSystem)) {
    throw new ChatError("not_found", `There is no message ${aroundId} in ${room} to open.`);
  }
  const viewer = reader ? { viewer: reader } : {};
  const olderCount = Math.ceil(limit / 2);
  const older = await newest(room, {
    limit: olderCount + 1,
    beforeId: aroundId + 1,
    includeSystem,
    ...viewer,
  });
  const hasMore = older.length > olderCount;
  if (hasMore) older.pop();
  const newerCount = limit - olderCount;
  const { ids, more } = await newerIds(store, room, aroundId, newerCount, includeSystem);
  const last = ids.at(-1);
  const newer =
    last === undefined
      ? []
      : await store.history(room, {
          limit: ids.length,
          beforeId: last + 1,
          includeSystem,
          ...viewer,
        });
  return { messages: [...older.reverse(), ...newer.reverse()], hasMore, hasNewer: more };
}

/** The ids of up to `count` messages after `afterId`, passing over change entries. */
async function newerIds(
  store: Store,
  room: RoomId,
  afterId: MessageId,
  count: number,
  includeSystem: boolean,
): Promise<{ ids: MessageId[]; more: boolean }> {
  const ids: MessageId[] = [];
  let cursor = afterId;
  for (let step = 0; step < MAX_SCAN_STEPS && ids.length <= count; step++) {
    const { messages } = await store.after(room, cursor, SCAN_STEP, includeSystem);
    for (const message of messages) if (!CHANGE_KINDS.has(message.kind)) ids.push(message.id);
    const end = messages.at(-1);
    if (!end || messages.length < SCAN_STEP)
      return { ids: ids.slice(0, count), more: ids.length > count };
    cursor = end.id;
  }
  return { ids: ids.slice(0, count), more: true };
}
