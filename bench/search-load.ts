// Fills a database with the search corpus through the Store interface, and
// keeps it between runs: loading a million messages takes minutes, a search
// measurement should not pay for it each time. A cache is used only when its
// marker (written after the load) names the same corpus and its schema is the
// one the store makes today; otherwise it is rebuilt.
import { createHash } from "node:crypto";
import type { NewMessage, Store } from "../src/store/store.ts";
import {
  CORPUS_VERSION,
  type Corpus,
  NARROW_READER,
  START_MS,
  WIDE_READER,
} from "./search-corpus.ts";
import type { Database, Engine } from "./search-engines.ts";

/** Messages per append: big, as a bulk load would; each batch gets its own time. */
const LOAD_BATCH = 1_000;
const WEEK_MS = 7 * 86_400_000;

export interface LoadReport {
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export interface CachedCorpus {
  readonly database: Database;
  /** Set when this run loaded it (no usable cache). */
  readonly load?: LoadReport;
  /** Why the cache was not used, when it was not. */
  readonly rebuilt?: string;
}

/** When the corpus's last batch was stored, and so "now" for its readers. */
export function corpusEndMs(corpus: Corpus): number {
  return START_MS + corpus.params.weeks * WEEK_MS;
}

export function corpusKey(corpus: Corpus): string {
  const key = JSON.stringify({ version: CORPUS_VERSION, batch: LOAD_BATCH, ...corpus.params });
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

/** The schema a new database gets from the store as the code stands. */
async function currentSchema(engine: Engine): Promise<string> {
  const scratch = await engine.scratch();
  try {
    await (await scratch.open(() => START_MS, "normal")).close();
    return await scratch.schemaDigest();
  } finally {
    await scratch.remove();
  }
}

export async function cachedCorpus(
  engine: Engine,
  corpus: Corpus,
  options: { fresh: boolean; progress: (line: string) => void },
): Promise<CachedCorpus> {
  const key = corpusKey(corpus);
  const database = await engine.cached(key);
  const marker = options.fresh ? undefined : await database.marker();
  let rebuilt = options.fresh ? "--fresh" : "no complete load cached";
  if (marker !== undefined) {
    const stored = JSON.parse(marker) as { key?: string; schema?: string };
    try {
      // Opening applies any migration, as a server's start would.
      await (await database.open(() => corpusEndMs(corpus), "normal")).close();
      const schema = await database.schemaDigest();
      if (stored.key === key && schema === (await currentSchema(engine))) return { database };
      rebuilt = "the cached database's schema is not the one the store makes now";
    } catch (error) {
      rebuilt = `the cached database did not open: ${error instanceof Error ? error.message : error}`;
    }
  }
  options.progress(`search: building ${database.where} (${rebuilt})`);
  await database.remove();
  const load = await loadCorpus(database, corpus, options.progress);
  await database.settle();
  const schema = await database.schemaDigest();
  await database.setMarker(
    JSON.stringify({ key, schema, corpus: corpus.params, loadedAt: new Date().toISOString() }),
  );
  return { database, load, rebuilt };
}

async function loadCorpus(
  database: Database,
  corpus: Corpus,
  progress: (line: string) => void,
): Promise<LoadReport> {
  const { messages } = corpus.params;
  let nowMs = START_MS;
  const store = await database.open(() => nowMs, "normal");
  const started = performance.now();
  try {
    await createRooms(store, corpus);
    const batches = Math.ceil(messages / LOAD_BATCH);
    const span = corpus.params.weeks * WEEK_MS;
    let reported = started;
    for (let batch = 0; batch < batches; batch++) {
      const first = batch * LOAD_BATCH;
      const list: NewMessage[] = [];
      for (let i = first; i < Math.min(messages, first + LOAD_BATCH); i++) {
        const m = corpus.message(i);
        list.push({
          room: m.room,
          userId: m.sender.userId,
          username: m.sender.username,
          text: m.text,
          kind: "chat",
          clientMsgId: "",
        });
      }
      nowMs = START_MS + Math.floor((span * (batch + 1)) / batches);
      await store.append(list);
      const now = performance.now();
      if (now - reported > 10_000 || batch === batches - 1) {
        reported = now;
        const done = first + list.length;
        const rate = done / ((now - started) / 1000);
        progress(
          `search: loaded ${done.toLocaleString("en")} of ${messages.toLocaleString("en")} messages ` +
            `(${Math.round((100 * done) / messages)}%), ${Math.round(rate).toLocaleString("en")}/s, ` +
            `about ${Math.round((messages - done) / rate)} s left`,
        );
      }
    }
  } finally {
    await store.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { messages, seconds, perSecond: messages / seconds };
}

/**
 * All rooms but the public ones are invite-only; the wide reader holds a role
 * in every room, the narrow one in the public rooms only.
 */
async function createRooms(store: Store, corpus: Corpus): Promise<void> {
  for (const room of corpus.rooms) {
    await store.createRoom({
      room: room.name,
      owner: room.senders[0]?.userId ?? "",
      inviteOnly: room.inviteOnly,
      readOnly: false,
      createdMs: START_MS,
    });
    await store.setRole(room.name, WIDE_READER, "member", START_MS);
    if (!room.inviteOnly) await store.setRole(room.name, NARROW_READER, "member", START_MS);
  }
}
