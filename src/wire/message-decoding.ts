import { fromBinary } from "@bufbuild/protobuf";
import { type HistoryPage, HistoryPageSchema, type Message } from "../gen/chat_pb.js";

// A history page decoded by hand on the client: protobuf-es decodes by
// reflection, which made a 500-message page cost a client about as much as
// the server's whole answer. The result is what `fromBinary` gives (a
// property test holds the two together); bytes this reader does not expect
// (an unknown field, another wire type) are handed to `fromBinary` instead,
// so a newer server's additions are kept as protobuf-es keeps them.

// Invalid UTF-8 is an error, as protobuf-es makes it.
const utf8 = new TextDecoder("utf-8", { fatal: true });
const TWO_TO_32 = 2 ** 32;

class Unexpected extends Error {}

class Reader {
  readonly #bytes: Uint8Array;
  readonly #ascii: Buffer;
  offset: number;
  /** Where the message being read ends: a nested message narrows it for a while. */
  end: number;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#ascii = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = 0;
    this.end = bytes.byteLength;
  }

  /** A varint as a bigint of its low 64 bits. */
  varint64(): bigint {
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.offset >= this.end) throw new Unexpected();
      const byte = this.#bytes[this.offset++] as number;
      const bits = byte & 0x7f;
      if (shift < 28) lo += bits * 2 ** shift;
      else if (shift === 28) {
        lo += (bits & 0x0f) * 2 ** 28;
        hi += bits >> 4;
      } else hi += bits * 2 ** (shift - 32);
      if (byte < 0x80) {
        hi %= TWO_TO_32;
        return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
      }
    }
    throw new Unexpected();
  }

  /** A varint that must fit 32 bits (lengths, tags, booleans, enums as uint32). */
  varint32(): number {
    const value = this.varint64();
    return Number(BigInt.asUintN(32, value));
  }

  string(): string {
    const length = this.varint32();
    const start = this.offset;
    this.offset += length;
    if (this.offset > this.end) throw new Unexpected();
    const bytes = this.#bytes;
    for (let i = start; i < this.offset; i++) {
      if ((bytes[i] as number) >= 0x80) return utf8.decode(bytes.subarray(start, this.offset));
    }
    // ASCII, as names, ids and most texts are: no decoder needed.
    return this.#ascii.toString("latin1", start, this.offset);
  }
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

function readMessage(reader: Reader): Message {
  const message: Message = {
    $typeName: "chat.Message",
    room: "",
    id: 0n,
    serverTimeMs: 0n,
    userId: "",
    username: "",
    text: "",
    kind: 0,
    clientMsgId: "",
    replyTo: 0n,
    targetId: 0n,
    editedAtMs: 0n,
    deleted: false,
    reactions: [],
    bot: false,
  };
  while (reader.offset < reader.end) {
    const tag = reader.varint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    const expected = field === 2 || field === 3 || field === 7 ? WIRE_VARINT : WIRE_LEN;
    if (field < 1 || field > 8 || wire !== expected) throw new Unexpected();
    switch (field) {
      case 1:
        message.room = reader.string();
        break;
      case 2:
        message.id = reader.varint64();
        break;
      case 3:
        message.serverTimeMs = BigInt.asIntN(64, reader.varint64());
        break;
      case 4:
        message.userId = reader.string();
        break;
      case 5:
        message.username = reader.string();
        break;
      case 6:
        message.text = reader.string();
        break;
      case 7:
        message.kind = Number(BigInt.asIntN(32, reader.varint64()));
        break;
      default:
        message.clientMsgId = reader.string();
    }
  }
  if (reader.offset !== reader.end) throw new Unexpected();
  return message;
}

/** `fromBinary(HistoryPageSchema, bytes)`, faster for the pages our servers send. */
export function decodeHistoryPage(bytes: Uint8Array): HistoryPage {
  try {
    const reader = new Reader(bytes);
    const page: HistoryPage = {
      $typeName: "chat.HistoryPage",
      messages: [],
      hasMore: false,
      hasNewer: false,
    };
    while (reader.offset < reader.end) {
      const tag = reader.varint32();
      if (tag === ((1 << 3) | WIRE_LEN)) {
        const length = reader.varint32();
        const end = reader.offset + length;
        if (end > reader.end) throw new Unexpected();
        const pageEnd = reader.end;
        reader.end = end;
        page.messages.push(readMessage(reader));
        reader.end = pageEnd;
      } else if (tag === ((2 << 3) | WIRE_VARINT)) {
        page.hasMore = reader.varint64() !== 0n;
      } else if (tag === ((3 << 3) | WIRE_VARINT)) {
        page.hasNewer = reader.varint64() !== 0n;
      } else throw new Unexpected();
    }
    return page;
  } catch (error) {
    if (error instanceof Unexpected) return fromBinary(HistoryPageSchema, bytes);
    throw error;
  }
}
