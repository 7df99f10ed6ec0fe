import { create, toBinary } from "@bufbuild/protobuf";
import { type HistoryPage, type Message, MessageSchema, type SendAck } from "../gen/chat_pb.js";

// The messages a server sends most, encoded by hand: protobuf-es encodes by
// reflection, which made a 500-message history page cost more than reading
// it from the store. The output is byte for byte what `toBinary` writes
// (fields in number order, proto3 defaults left out; unknown fields, which
// no message we build carries, are not written); a property test holds
// the two together, so a change to these messages in the .proto must be
// made here too. A Message that uses any field past 8 (a reply, a change
// entry, an edited, deleted or reacted-to message: the rarer ones) is
// encoded by protobuf-es and its bytes embedded as they are.

/** A message's fields, with or without protobuf-es's type marker: only the fields are read. */
type Fields<T> = Omit<T, "$typeName" | "$unknown">;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const TWO_TO_64 = 1n << 64n;
/** gRPC's frame header: a compression flag and a 4-byte length. */
const FRAME_PREFIX = 5;
/** A seed ChatMessage's string fields. */
const SEED_STRINGS = 5;

/** Sizes first, then one buffer: a message is written without any copying. */
class Writer {
  readonly #buffer: Buffer;
  #offset = 0;

  constructor(size: number) {
    this.#buffer = Buffer.allocUnsafe(size);
  }

  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#offset);
  }

  varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.#buffer[this.#offset++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.#buffer[this.#offset++] = rest;
  }

  bigVarint(value: bigint): void {
    if (value >= 0n && value <= MAX_SAFE) {
      this.varint(Number(value));
      return;
    }
    // Negative int64s are written as their two's complement in 64 bits.
    let rest = value < 0n ? value + TWO_TO_64 : value;
    while (rest >= 0x80n) {
      this.#buffer[this.#offset++] = Number(rest & 0x7fn) | 0x80;
      rest >>= 7n;
    }
    this.#buffer[this.#offset++] = Number(rest);
  }

  raw(bytes: Uint8Array): void {
    this.#buffer.set(bytes, this.#offset);
    this.#offset += bytes.byteLength;
  }

  /** An uncompressed gRPC frame's prefix, for a message of `length` bytes. */
  framePrefix(length: number): void {
    this.#buffer[this.#offset] = 0;
    this.#buffer.writeUInt32BE(length, this.#offset + 1);
    this.#offset += FRAME_PREFIX;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  string(field: number, value: string, byteLength: number): void {
    if (byteLength === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(byteLength);
    this.#offset += this.#buffer.write(value, this.#offset, "utf8");
  }

  uint64(field: number, value: bigint): void {
    if (value === 0n) return;
    this.tag(field, WIRE_VARINT);
    this.bigVarint(value);
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size += 1;
  return size;
}

function bigVarintSize(value: bigint): number {
  if (value >= 0n && value <= MAX_SAFE) return varintSize(Number(value));
  let size = 1;
  for (let rest = value < 0n ? value + TWO_TO_64 : value; rest >= 0x80n; rest >>= 7n) size += 1;
  return size;
}

/** Bytes of a length-delimited field with `length` bytes of content (tags here are one byte). */
const lengthField = (length: number) => (length === 0 ? 0 : 1 + varintSize(length) + length);
const uint64Field = (value: bigint) => (value === 0n ? 0 : 1 + bigVarintSize(value));
const utf8 = (value: string) => (value === "" ? 0 : Buffer.byteLength(value, "utf8"));

/** Whether a Message uses only fields 1-8, which the hand encoder writes. */
function plain(message: Fields<Message>): boolean {
  return (
    message.replyTo === 0n &&
    message.targetId === 0n &&
    message.editedAtMs === 0n &&
    !message.deleted &&
    message.reactions.length === 0 &&
    message.reaction === undefined &&
    !message.bot
  );
}

type Measured =
  | { readonly size: number; readonly lengths: readonly number[]; readonly bytes?: undefined }
  | { readonly size: number; readonly lengths?: undefined; readonly bytes: Uint8Array };

/** The encoded size of a Message, with the UTF-8 lengths it needs (or its bytes, when not plain). */
function measureMessage(message: Fields<Message>): Measured {
  if (!plain(message)) {
    const bytes = toBinary(MessageSchema, create(MessageSchema, message));
    return { size: bytes.byteLength, bytes };
  }
  const lengths = [
    utf8(message.room),
    utf8(message.userId),
    utf8(message.username),
    utf8(message.text),
    utf8(message.clientMsgId),
  ] as const;
  const size =
    lengthField(lengths[0]) +
    uint64Field(message.id) +
    uint64Field(message.serverTimeMs) +
    lengthField(lengths[1]) +
    lengthField(lengths[2]) +
    lengthField(lengths[3]) +
    (message.kind === 0 ? 0 : 1 + varintSize(message.kind)) +
    lengthField(lengths[4]);
  return { size, lengths };
}

function writeMessage(writer: Writer, message: Fields<Message>, measured: Measured): void {
  if (measured.bytes) {
    writer.raw(measured.bytes);
    return;
  }
  const lengths = measured.lengths as readonly [number, number, number, number, number];
  writer.string(1, message.room, lengths[0]);
  writer.uint64(2, message.id);
  writer.uint64(3, message.serverTimeMs);
  writer.string(4, message.userId, lengths[1]);
  writer.string(5, message.username, lengths[2]);
  writer.string(6, message.text, lengths[3]);
  if (message.kind !== 0) {
    writer.tag(7, WIRE_VARINT);
    writer.varint(message.kind);
  }
  writer.string(8, message.clientMsgId, lengths[4]);
}

/** `toBinary(MessageSchema, message)`, faster. */
export function encodeMessage(message: Fields<Message>): Uint8Array {
  const measured = measureMessage(message);
  const writer = new Writer(measured.size);
  writeMessage(writer, message, measured);
  return writer.bytes();
}

/** `toBinary(EventSchema, event)` for an Event that carries `message` (field 2). */
export function encodeMessageEvent(message: Fields<Message>): Uint8Array {
  const measured = measureMessage(message);
  const { size } = measured;
  const writer = new Writer(1 + varintSize(size) + size);
  writer.tag(2, WIRE_LEN);
  writer.varint(size);
  writeMessage(writer, message, measured);
  return writer.bytes();
}

/** `toBinary(HistoryPageSchema, page)`, faster. */
export function encodeHistoryPage(page: HistoryPage): Uint8Array {
  const measured = page.messages.map(measureMessage);
  let size = (page.hasMore ? 2 : 0) + (page.hasNewer ? 2 : 0);
  // An empty Message is still written (tag and a zero length).
  for (const { size: one } of measured) size += 1 + varintSize(one) + one;
  const writer = new Writer(size);
  page.messages.forEach((message, i) => {
    const one = measured[i] as Measured;
    writer.tag(1, WIRE_LEN);
    writer.varint(one.size);
    writeMessage(writer, message, one);
  });
  if (page.hasMore) {
    writer.tag(2, WIRE_VARINT);
    writer.varint(1);
  }
  if (page.hasNewer) {
    writer.tag(3, WIRE_VARINT);
    writer.varint(1);
  }
  return writer.bytes();
}

/** `toBinary(EventSchema, event)` for an Event that carries `ack` (field 3): one per send. */
export function encodeAckEvent(ack: Fields<SendAck>): Uint8Array {
  const lengths = [utf8(ack.clientMsgId), utf8(ack.room)] as const;
  const size =
    lengthField(lengths[0]) +
    uint64Field(ack.id) +
    uint64Field(ack.serverTimeMs) +
    lengthField(lengths[1]);
  const writer = new Writer(1 + varintSize(size) + size);
  writer.tag(3, WIRE_LEN);
  writer.varint(size);
  writer.string(1, ack.clientMsgId, lengths[0]);
  writer.uint64(2, ack.id);
  writer.uint64(3, ack.serverTimeMs);
  writer.string(4, ack.room, lengths[1]);
  return writer.bytes();
}

/**
 * A seed ChatMessage's fields: a protobuf-es ChatMessage is one, and so is
 * the plain object the server builds from a stored message, whose id is the
 * store's number (0 for none).
 */
export interface SeedLine {
  readonly userId: string;
  readonly username: string;
  readonly message: string;
  readonly timestamp: string;
  readonly room: string;
  readonly id: number | bigint;
}

/** Sets `lengths[at..at+5)` to the UTF-8 lengths of a line's strings; returns its size. */
function measureSeedLine(line: SeedLine, lengths: Uint32Array, at: number): number {
  lengths[at] = utf8(line.userId);
  lengths[at + 1] = utf8(line.username);
  lengths[at + 2] = utf8(line.message);
  lengths[at + 3] = utf8(line.timestamp);
  lengths[at + 4] = utf8(line.room);
  const { id } = line;
  let size = typeof id === "bigint" ? uint64Field(id) : id === 0 ? 0 : 1 + varintSize(id);
  for (let i = at; i < at + SEED_STRINGS; i++) size += lengthField(lengths[i] as number);
  return size;
}

function writeSeedLine(writer: Writer, line: SeedLine, lengths: Uint32Array, at: number): void {
  writer.string(1, line.userId, lengths[at] as number);
  writer.string(2, line.username, lengths[at + 1] as number);
  writer.string(3, line.message, lengths[at + 2] as number);
  writer.string(4, line.timestamp, lengths[at + 3] as number);
  writer.string(5, line.room, lengths[at + 4] as number);
  const { id } = line;
  if (typeof id === "bigint") writer.uint64(6, id);
  else if (id !== 0) {
    writer.tag(6, WIRE_VARINT);
    writer.varint(id);
  }
}

/** `toBinary(ChatMessageSchema, message)`, faster: the seed's stream carries these. */
export function encodeChatMessage(message: SeedLine): Uint8Array {
  const lengths = new Uint32Array(SEED_STRINGS);
  const writer = new Writer(measureSeedLine(message, lengths, 0));
  writeSeedLine(writer, message, lengths, 0);
  return writer.bytes();
}

/**
 * Each line as `encodeChatMessage` writes it, as a gRPC frame (the 5-byte
 * prefix first), one after another in one buffer: a whole streamed response
 * measured once, allocated once and handed to the transport in one write,
 * where a frame per message cost an allocation, a copy and a write each.
 */
export function encodeChatMessageFrames(lines: readonly SeedLine[]): Uint8Array {
  const lengths = new Uint32Array(lines.length * SEED_STRINGS);
  const sizes = new Uint32Array(lines.length);
  let total = 0;
  for (let i = 0; i < lines.length; i++) {
    const size = measureSeedLine(lines[i] as SeedLine, lengths, i * SEED_STRINGS);
    sizes[i] = size;
    total += FRAME_PREFIX + size;
  }
  const writer = new Writer(total);
  for (let i = 0; i < lines.length; i++) {
    writer.framePrefix(sizes[i] as number);
    writeSeedLine(writer, lines[i] as SeedLine, lengths, i * SEED_STRINGS);
  }
  return writer.bytes();
}
