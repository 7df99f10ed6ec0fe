// The search bench's messages: chat-like texts over a Zipf-distributed
// vocabulary, with file names, URLs, identifiers and accented words, in rooms
// of several senders. Every message is made from its own seeded generator, so
// any one of them can be made again without the others: the queries are
// drawn from real messages, and runs on different days search the same text.
import { pickOf, seeded, seedOf, Zipf } from "./search-random.ts";
import { fileName, identifiers, url, vocabulary } from "./search-vocabulary.ts";

export interface CorpusParams {
  readonly messages: number;
  readonly rooms: number;
  readonly vocabulary: number;
  readonly weeks: number;
  readonly seed: number;
}

/** Bump when the texts change, so that cached databases are rebuilt. */
export const CORPUS_VERSION = 1;

export const DEFAULT_CORPUS: Omit<CorpusParams, "messages"> = {
  rooms: 1_000,
  vocabulary: 5_000,
  weeks: 6,
  seed: 21,
};

/** Rooms anyone may read; the rest are invite-only. */
export const PUBLIC_ROOMS = 50;
/** Holds a role in every room. */
export const WIDE_READER = "a-reader-all";
/** Holds a role in the public rooms only, so reads exactly those. */
export const NARROW_READER = "a-reader-fifty";
/** The first message's time: a fixed date, so that runs are comparable. */
export const START_MS = Date.UTC(2026, 9, 1);

export interface Sender {
  readonly userId: string;
  readonly username: string;
}

export interface RoomPlan {
  readonly name: string;
  readonly senders: readonly Sender[];
  readonly inviteOnly: boolean;
}

/** What one message is made of, beside its text: what the queries are drawn from. */
export interface GeneratedMessage {
  readonly room: string;
  readonly sender: Sender;
  readonly text: string;
  /** The vocabulary ranks of its words, in order. */
  readonly ranks: readonly number[];
  readonly files: readonly string[];
  readonly urls: readonly string[];
  readonly identifiers: readonly string[];
}

/** Rooms' activity: a few busy rooms, a long tail of quiet ones. */
const ROOM_SKEW = 0.8;

export class Corpus {
  readonly params: CorpusParams;
  /** By rank, as written (accents and all). */
  readonly words: readonly string[];
  readonly rooms: readonly RoomPlan[];
  /** The expected share of messages in rooms anyone may read (busy rooms are few). */
  readonly publicShare: number;
  readonly #identifiers: readonly string[];
  readonly #wordRanks: Zipf;
  readonly #roomRanks: Zipf;
  readonly #identifierRanks: Zipf;
  readonly #senderRanks = new Map<number, Zipf>();

  constructor(params: CorpusParams) {
    this.params = params;
    const random = seeded(params.seed);
    this.words = vocabulary(params.vocabulary, random);
    this.#identifiers = identifiers(random);
    this.#wordRanks = new Zipf(this.words.length, 1.05);
    this.#roomRanks = new Zipf(params.rooms, ROOM_SKEW);
    this.#identifierRanks = new Zipf(this.#identifiers.length, 1);
    const people = Array.from({ length: Math.max(20, params.rooms * 2) }, (_, i) => ({
      userId: `a-u${String(i).padStart(5, "0")}`,
      username: `user${i}`,
    }));
    const open = new Set<number>();
    while (open.size < Math.min(PUBLIC_ROOMS, params.rooms)) {
      open.add(Math.floor(random() * params.rooms));
    }
    this.rooms = Array.from({ length: params.rooms }, (_, i) => ({
      name: `room-${String(i).padStart(4, "0")}`,
      senders: Array.from({ length: 3 + Math.floor(random() * 10) }, () => pickOf(random, people)),
      inviteOnly: !open.has(i),
    }));
    const weight = (rank: number) => 1 / (rank + 1) ** ROOM_SKEW;
    let all = 0;
    let opened = 0;
    for (let rank = 0; rank < params.rooms; rank++) {
      all += weight(rank);
      if (open.has(rank)) opened += weight(rank);
    }
    this.publicShare = opened / all;
  }

  message(index: number): GeneratedMessage {
    const random = seeded(seedOf(this.params.seed, index));
    const room = this.rooms[this.#roomRanks.pick(random)] as RoomPlan;
    const senders = room.senders.length;
    let senderRanks = this.#senderRanks.get(senders);
    if (!senderRanks) {
      senderRanks = new Zipf(senders, 1);
      this.#senderRanks.set(senders, senderRanks);
    }
    const sender = room.senders[senderRanks.pick(random)] as Sender;
    // Log-normal lengths: median 8 words, a long tail to a few dozen.
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const length = Math.min(40, Math.max(2, Math.round(Math.exp(Math.log(8) + 0.75 * normal))));
    const tokens: string[] = [];
    const ranks: number[] = [];
    const files: string[] = [];
    const urls: string[] = [];
    const idents: string[] = [];
    for (let i = 0; i < length; i++) {
      const roll = random();
      if (roll < 0.006) {
        const file = fileName(random);
        files.push(file);
        tokens.push(file);
      } else if (roll < 0.01) {
        const link = url(random);
        urls.push(link);
        tokens.push(link);
      } else if (roll < 0.018) {
        const ident = this.#identifiers[this.#identifierRanks.pick(random)] as string;
        idents.push(ident);
        tokens.push(random() < 0.2 ? `${ident}()` : ident);
      } else {
        const rank = this.#wordRanks.pick(random);
        ranks.push(rank);
        const word = this.words[rank] as string;
        tokens.push(random() < 0.01 ? word.toUpperCase() : word);
        if (random() < 0.05) tokens[tokens.length - 1] += ",";
      }
    }
    let text = tokens.join(" ");
    if (random() < 0.3) text = text.charAt(0).toUpperCase() + text.slice(1);
    const end = random();
    text += end < 0.5 ? "" : end < 0.7 ? "." : end < 0.85 ? "?" : end < 0.95 ? "!" : " :)";
    return { room: room.name, sender, text, ranks, files, urls, identifiers: idents };
  }
}
