// The search bench's queries, each kind a list drawn from the corpus with its
// own seed (the same on every run), and the loop that times them. Terms are
// built already folded, as the core hands them to the store.

import { parseSearch } from "../src/core/search-query.ts";
import type { SearchQuery, SearchTerm, Store } from "../src/store/store.ts";
import { type Corpus, type GeneratedMessage, NARROW_READER, WIDE_READER } from "./search-corpus.ts";
import { pickOf, type Random, seeded, seedOf } from "./search-random.ts";
import { fold } from "./search-vocabulary.ts";

export type QueryKind = "common" | "rare" | "prefix" | "substring" | "narrow" | "admin";

export const KIND_LABELS: Record<QueryKind, string> = {
  common: "two common words",
  rare: "two rare words",
  prefix: "one-word prefix",
  substring: "substring",
  narrow: "two common words, reader of 50 rooms",
  admin: "two common words, admin",
};

interface Reader {
  readonly reader: string;
  readonly admin: boolean;
}

const READERS: Record<QueryKind, Reader> = {
  common: { reader: WIDE_READER, admin: false },
  rare: { reader: WIDE_READER, admin: false },
  prefix: { reader: WIDE_READER, admin: false },
  substring: { reader: WIDE_READER, admin: false },
  narrow: { reader: NARROW_READER, admin: false },
  admin: { reader: "a-bench-admin", admin: true },
};

export interface QueryCase {
  readonly terms: readonly SearchTerm[];
  /** How it reads in a search box, for people. */
  readonly typed: string;
}

export interface QuerySet {
  readonly kind: QueryKind;
  readonly cases: readonly QueryCase[];
}

/** The first page, newest first, as a client asks for it. */
export const PAGE = 20;
/** Most frequent words are stop words no one searches for; common pairs start below them. */
const COMMON_RANKS = [10, 100] as const;
const RARE_FROM_RANK = 1_000;

const word = (text: string): SearchTerm => ({ kind: "words", words: [text], prefix: false });

/** A message drawn at random from the whole corpus. */
const anyMessage = (corpus: Corpus, random: Random): GeneratedMessage =>
  corpus.message(Math.floor(random() * corpus.params.messages));

function commonPair(corpus: Corpus, random: Random): QueryCase {
  const [low, high] = COMMON_RANKS;
  const first = low + Math.floor(random() * (high - low));
  let second = first;
  while (second === first) second = low + Math.floor(random() * (high - low));
  const words = [first, second].map((rank) => fold(corpus.words[rank] as string));
  return { terms: words.map(word), typed: words.join(" ") };
}

/** The two rarest words of a real message: what someone remembers of it. */
function rarePair(corpus: Corpus, random: Random): QueryCase {
  for (;;) {
    const ranks = [...new Set(anyMessage(corpus, random).ranks)]
      .filter((rank) => rank >= RARE_FROM_RANK)
      .sort((a, b) => b - a);
    if (ranks.length < 2) continue;
    const words = ranks.slice(0, 2).map((rank) => fold(corpus.words[rank] as string));
    return { terms: words.map(word), typed: words.join(" ") };
  }
}

/** A word of a real message, partly typed. */
function prefix(corpus: Corpus, random: Random): QueryCase {
  for (;;) {
    const candidates = anyMessage(corpus, random)
      .ranks.filter((rank) => rank >= 30 && rank < 3_000)
      .map((rank) => fold(corpus.words[rank] as string))
      .filter((w) => w.length >= 4);
    if (candidates.length === 0) continue;
    const whole = pickOf(random, candidates);
    const typed = whole.slice(0, 3 + Math.floor(random() * (whole.length - 3)));
    return { terms: [{ kind: "words", words: [typed], prefix: true }], typed: `${typed}…` };
  }
}

/** By turns: a file extension, a file name, part of a URL's path, an identifier. */
function substring(corpus: Corpus, random: Random, turn: number): QueryCase {
  for (;;) {
    const message = anyMessage(corpus, random);
    let text: string | undefined;
    if (turn % 4 === 0 && message.files.length) {
      text = `.${pickOf(random, message.files).split(".").pop()}`;
    } else if (turn % 4 === 1 && message.files.length) {
      text = pickOf(random, message.files);
    } else if (turn % 4 === 2 && message.urls.length) {
      const path = pickOf(random, message.urls)
        .replace(/^(https:\/\/)?[^/]+/, "")
        .split("?")[0];
      const parts = (path ?? "").split("/").filter((p) => p !== "");
      const start = Math.floor(random() * parts.length);
      text = `/${parts.slice(start, start + 1 + Math.floor(random() * 2)).join("/")}`;
    } else if (turn % 4 === 3) {
      // One with punctuation (sess.opts, max_retry_count()): getUserName is a word.
      const punctuated = message.identifiers.filter((id) => /[^\p{L}\p{N}]/u.test(id));
      if (punctuated.length) text = pickOf(random, punctuated);
    }
    if (text === undefined || text.length < 3) continue;
    const folded = fold(text);
    const terms = parseSearch(folded).include;
    if (terms.length !== 1 || terms[0]?.kind !== "substring") continue;
    return { terms, typed: folded };
  }
}

/** `count` queries of each kind; the narrow reader and the admin ask what the all-rooms reader asks. */
export function buildQueries(corpus: Corpus, count: number): QuerySet[] {
  const make = (stream: number, one: (random: Random, i: number) => QueryCase) => {
    const random = seeded(seedOf(corpus.params.seed, stream));
    return Array.from({ length: count }, (_, i) => one(random, i));
  };
  const common = make(1, (random) => commonPair(corpus, random));
  return [
    { kind: "common", cases: common },
    { kind: "rare", cases: make(2, (random) => rarePair(corpus, random)) },
    { kind: "prefix", cases: make(3, (random) => prefix(corpus, random)) },
    { kind: "substring", cases: make(4, (random, i) => substring(corpus, random, i)) },
    { kind: "narrow", cases: common },
    { kind: "admin", cases: common },
  ];
}

/**
 * How many of the corpus's messages each of the set's first `queries` would
 * match, estimated from an even sample: a page is at most 20, so this says
 * how much each query has to choose from.
 */
export function estimateMatches(
  corpus: Corpus,
  set: QuerySet,
  queries: readonly QueryCase[],
  sampleSize = 50_000,
): number[] {
  const { messages } = corpus.params;
  const size = Math.min(sampleSize, messages);
  const readable = new Set(
    corpus.rooms.filter((r) => set.kind !== "narrow" || !r.inviteOnly).map((r) => r.name),
  );
  const sample = Array.from({ length: size }, (_, i) => {
    const message = corpus.message(Math.floor((i * messages) / size));
    const text = fold(message.text);
    return { room: message.room, text, words: text.split(/[^\p{L}\p{N}]+/u) };
  });
  const matches = (term: SearchTerm, m: (typeof sample)[number]) =>
    term.kind === "substring"
      ? m.text.includes(term.text)
      : term.prefix
        ? m.words.some((w) => w.startsWith(term.words[0] ?? ""))
        : m.words.includes(term.words[0] ?? "");
  return queries.map((c) => {
    let found = 0;
    for (const m of sample) {
      if (readable.has(m.room) && c.terms.every((t) => matches(t, m))) found += 1;
    }
    return Math.round((found * messages) / size);
  });
}

export interface Timings {
  readonly kind: QueryKind;
  readonly ms: number[];
  readonly hits: number[];
  /** The store's refusal, when it refused (then nothing more of this kind is asked). */
  error?: string;
}

/**
 * Asks every set's queries one at a time, the sets taking turns query by
 * query, so that whatever else the machine does falls on all kinds alike.
 * The first `warm` of each set are asked first and not counted.
 */
export async function timeQueries(
  store: Store,
  sets: readonly QuerySet[],
  nowMs: number,
  warm: number,
): Promise<Timings[]> {
  const timings: Timings[] = sets.map((s) => ({ kind: s.kind, ms: [], hits: [] }));
  const longest = Math.max(...sets.map((s) => s.cases.length));
  for (let i = 0; i < longest; i++) {
    for (const [n, set] of sets.entries()) {
      const timing = timings[n] as Timings;
      const c = set.cases[i];
      if (!c || timing.error !== undefined) continue;
      const query: SearchQuery = {
        ...READERS[set.kind],
        nowMs,
        include: c.terms,
        exclude: [],
        limit: PAGE,
      };
      const started = performance.now();
      try {
        const hits = await store.search(query);
        if (i < warm) continue;
        timing.ms.push(performance.now() - started);
        timing.hits.push(hits.length);
      } catch (error) {
        timing.error = error instanceof Error ? error.message : String(error);
      }
    }
  }
  return timings;
}
