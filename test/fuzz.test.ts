/**
 * Every RPC of chat.ChatService survives bad input: a property-based test
 * with fast-check against the real server, through grpc-js clients that send
 * raw bytes. The methods come from the generated service, so a new RPC is
 * fuzzed without touching this file.
 *
 * A request (or, on a streaming request, each of 1-5 frames, sometimes after
 * a valid first one) is random bytes, a valid encoding cut short, one with a
 * field re-tagged to a wrong wire type, one with a 100 kB string, one with
 * invalid UTF-8 spliced into a string field, or now and then a valid one;
 * metadata user_id is absent, short, 10 kB or 100 kB. Streams are half-closed
 * or left open, their frames sent together or apart.
 *
 * Each call must end with a status within its deadline (a stream left open
 * is half-closed once quiet; a server stream that answered and went quiet
 * is live, and cancelled); the status is never one that blames the server
 * (INTERNAL, UNKNOWN, DATA_LOSS) and its details are short (the server never
 * echoes unbounded input). A server that crashes fails the run (it is in this
 * process). Afterwards the server still chats.
 *
 * FUZZ_SEED and FUZZ_RUNS change the seed and the number of batches;
 * FUZZ_KEEP_GOING=1 counts every violation instead of stopping at the first.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  fromBinary,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  Client,
  type ClientDuplexStream,
  type ClientWritableStream,
  credentials,
  Metadata,
  type StatusObject,
  status,
} from "@grpc/grpc-js";
import fc from "fast-check";
import pino from "pino";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import { ChatService } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import { isText, liveUser, nextMatching, startTestServer, within } from "./helpers.ts";
import { SeedClient } from "./seed-client.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 4);
/** Runs of the property; each run is a batch of calls made at once. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 80);
const BATCH = 75;
const KEEP_GOING = process.env.FUZZ_KEEP_GOING === "1";
/** A call that has no status by then never got one (the server's or the client's deadline). */
const CALL_DEADLINE_MS = 3_000;
/** A streaming call left open that has no status this long after its last frame is half-closed. */
const QUIET_MS = 150;
/** Between frames sent "paced". */
const PACE_MS = 3;
const MAX_DETAILS = 300;
const BIG = 100_000;
/** Messages of 2 kB in the default room before the fuzzing starts. */
const HISTORY = 100;
/** Codes that say the server failed, or that the call never ended: never right for bad input. */
const SERVER_FAULTS = new Set<status>([
  status.INTERNAL,
  status.UNKNOWN,
  status.DATA_LOSS,
  status.DEADLINE_EXCEEDED,
]);

interface Method {
  readonly name: string;
  readonly path: string;
  readonly kind: DescMethod["methodKind"];
  readonly input: DescMessage;
}

const METHODS: readonly Method[] = ChatService.methods.map((method) => {
  const definition = chatServiceDefinition[method.localName];
  assert.ok(definition, `no grpc-js definition for ${method.name}`);
  return { name: method.name, path: definition.path, kind: method.methodKind, input: method.input };
});

// ---- Valid messages of any schema, from its descriptor ----

const MAX_DEPTH = 3;

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return fc.oneof(
        fc.constantFrom("", "lobby", "alice", "general", "hello there"),
        fc.string({ maxLength: 24 }),
        fc.string({ unit: "grapheme", maxLength: 8 }),
      );
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 16 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(
        fc.bigInt({ min: -3n, max: 10n }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      );
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(
        fc.bigInt({ min: 0n, max: 10n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      );
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    default:
      return fc.oneof(
        fc.integer({ min: -3, max: 10 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      );
  }
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar);
    case "enum":
      return fc.oneof(
        fc.constantFrom(...field.enum.values.map((value) => value.number)),
        fc.integer({ min: -2, max: 100 }),
      );
    case "message":
      return depth < MAX_DEPTH ? messageInit(field.message, depth + 1) : undefined;
    case "list": {
      const item =
        field.listKind === "message"
          ? depth < MAX_DEPTH
            ? messageInit(field.message, depth + 1)
            : undefined
          : field.listKind === "enum"
            ? fc.integer({ min: -2, max: 10 })
            : scalar(field.scalar);
      return item && fc.array(item, { maxLength: 3 });
    }
    case "map":
      return undefined;
  }
}

/** An init object for `create`: any subset of the fields, at most one member of each oneof. */
function messageInit(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const member of schema.members) {
    if (member.kind === "oneof") {
      const cases = member.fields.flatMap((field) => {
        const value = fieldValue(field, depth);
        return value ? [value.map((v) => ({ case: field.localName, value: v }))] : [];
      });
      if (cases.length > 0) parts[member.localName] = fc.oneof(...cases);
    } else {
      const value = fieldValue(member, depth);
      if (value) parts[member.localName] = value;
    }
  }
  return fc.record(parts, { requiredKeys: [] });
}

function encode(schema: DescMessage, init: Record<string, unknown>): Uint8Array {
  return toBinary(schema, create(schema, init));
}

/** Paths to every string field, through message fields (a list holds one element on the way). */
function stringPaths(schema: DescMessage, depth = 0): DescField[][] {
  const paths: DescField[][] = [];
  for (const field of schema.fields) {
    const isString =
      (field.fieldKind === "scalar" ||
        (field.fieldKind === "list" && field.listKind === "scalar")) &&
      field.scalar === ScalarType.STRING;
    if (isString) paths.push([field]);
    const inner =
      field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")
        ? field.message
        : undefined;
    if (inner && depth < MAX_DEPTH) {
      for (const path of stringPaths(inner, depth + 1)) paths.push([field, ...path]);
    }
  }
  return paths;
}

/** The init that sets only the field at `path` to `leaf`. */
function initAt(path: readonly DescField[], leaf: unknown): Record<string, unknown> {
  const [field, ...rest] = path;
  if (!field) throw new Error("empty path");
  let value = rest.length === 0 ? leaf : initAt(rest, leaf);
  if (field.fieldKind === "list") value = [value];
  if (field.oneof) return { [field.oneof.localName]: { case: field.localName, value } };
  return { [field.localName]: value };
}

// ---- Bad encodings ----

const ALL_WIRE_TYPES = [0, 1, 2, 3, 4, 5, 6, 7] as const;

function wireTypeOf(field: DescField): number[] {
  if (field.fieldKind === "message" || field.fieldKind === "map") return [WireType.LengthDelimited];
  if (field.fieldKind === "enum") return [WireType.Varint];
  const type =
    field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")
      ? field.scalar
      : ScalarType.INT32;
  const packed = field.fieldKind === "list" && field.listKind !== "message";
  switch (type) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return [WireType.LengthDelimited];
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return packed ? [WireType.Bit64, WireType.LengthDelimited] : [WireType.Bit64];
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return packed ? [WireType.Bit32, WireType.LengthDelimited] : [WireType.Bit32];
    default:
      return packed ? [WireType.Varint, WireType.LengthDelimited] : [WireType.Varint];
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function tag(fieldNo: number, wireType: number): Uint8Array {
  return new BinaryWriter().tag(fieldNo, wireType as WireType).finish();
}

function lengthDelimited(fieldNo: number, payload: Uint8Array): Uint8Array {
  return new BinaryWriter().tag(fieldNo, WireType.LengthDelimited).bytes(payload).finish();
}

/** A field with a well-formed payload of `wireType` (3 and 4 are groups; 6 and 7 do not exist). */
function fieldWithWireType(fieldNo: number, wireType: number, payload: Uint8Array): Uint8Array {
  const padded = concat(payload, new Uint8Array(8));
  switch (wireType) {
    case WireType.Varint:
      return new BinaryWriter()
        .tag(fieldNo, WireType.Varint)
        .uint64(Buffer.from(padded).readBigUInt64LE(0))
        .finish();
    case WireType.Bit64:
      return concat(tag(fieldNo, wireType), padded.subarray(0, 8));
    case WireType.Bit32:
      return concat(tag(fieldNo, wireType), padded.subarray(0, 4));
    case WireType.LengthDelimited:
      return lengthDelimited(fieldNo, payload);
    case WireType.StartGroup:
      return concat(tag(fieldNo, WireType.StartGroup), tag(fieldNo, WireType.EndGroup));
    default:
      return concat(tag(fieldNo, wireType), payload);
  }
}

interface TopField {
  readonly start: number;
  readonly tagEnd: number;
  readonly fieldNo: number;
  readonly wireType: number;
}

function topLevelFields(bytes: Uint8Array): TopField[] {
  const reader = new BinaryReader(bytes);
  const fields: TopField[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [fieldNo, wireType] = reader.tag();
    fields.push({ start, tagEnd: reader.pos, fieldNo, wireType });
    reader.skip(wireType, fieldNo);
  }
  return fields;
}

/**
 * A valid encoding with one field re-tagged: an existing field's tag given
 * another wire type (its payload then reads as something else), or a declared
 * field added with a wire type it does not have and a payload of that type.
 */
function retag(
  schema: DescMessage,
  bytes: Uint8Array,
  pick: number,
  wrongPick: number,
  payload: Uint8Array,
): Uint8Array {
  const present = topLevelFields(bytes);
  const existing = present[pick % (present.length * 2 || 1)];
  if (existing) {
    const others = ALL_WIRE_TYPES.filter((type) => type !== existing.wireType);
    const wrong = others[wrongPick % others.length] as number;
    return concat(
      bytes.subarray(0, existing.start),
      tag(existing.fieldNo, wrong),
      bytes.subarray(existing.tagEnd),
    );
  }
  const field = schema.fields[pick % (schema.fields.length || 1)];
  const fieldNo = field?.number ?? 1 + (pick % 8);
  const right: number[] = field ? wireTypeOf(field) : [];
  const others = ALL_WIRE_TYPES.filter((type) => !right.includes(type));
  const wrong = others[wrongPick % others.length] as number;
  return concat(bytes, fieldWithWireType(fieldNo, wrong, payload));
}

/** Wraps a raw leaf field (tag and value) in the messages on the way to it. */
function wrap(path: readonly DescField[], leaf: Uint8Array): Uint8Array {
  let bytes = leaf;
  for (let i = path.length - 2; i >= 0; i--)
    bytes = lengthDelimited((path[i] as DescField).number, bytes);
  return bytes;
}

const INVALID_UTF8: readonly number[][] = [
  [0xff, 0xfe, 0xc0],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
];

const BIG_STRINGS = [
  "x".repeat(BIG),
  "é".repeat(BIG / 2),
  `${"lobby ".repeat(BIG / 6)}`,
  "\u0000\u001b[2J".repeat(BIG / 4),
];

type FrameKind = "valid" | "random" | "truncated" | "retagged" | "oversized" | "bad-utf8";

interface Frame {
  readonly kind: FrameKind;
  readonly bytes: Uint8Array;
}

function frameOf(schema: DescMessage): fc.Arbitrary<Frame> {
  const valid = messageInit(schema).map((init) => encode(schema, init));
  const paths = stringPaths(schema);
  const path = paths.length > 0 ? fc.constantFrom(...paths) : fc.constant(undefined);
  const frame = (kind: FrameKind) => (bytes: Uint8Array) => ({ kind, bytes });
  return fc.oneof(
    // Now and then a good frame among the bad ones, as a real client would send: a join
    // that replays history keeps the server writing when the next bad frame arrives.
    { weight: 1, arbitrary: valid.map(frame("valid")) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map(frame("random")) },
    fc
      .tuple(valid, fc.nat())
      .map(([bytes, at]) => bytes.subarray(0, bytes.length === 0 ? 0 : at % bytes.length))
      .map(frame("truncated")),
    fc
      .tuple(valid, fc.nat(), fc.nat(), fc.uint8Array({ maxLength: 12 }))
      .map(([bytes, pick, wrong, payload]) => retag(schema, bytes, pick, wrong, payload))
      .map(frame("retagged")),
    fc
      .tuple(valid, path, fc.constantFrom(...BIG_STRINGS))
      .map(([bytes, at, big]) =>
        concat(
          bytes,
          at ? encode(schema, initAt(at, big)) : lengthDelimited(1, Buffer.from(big, "utf8")),
        ),
      )
      .map(frame("oversized")),
    fc
      .tuple(
        valid,
        path,
        fc.constantFrom(...INVALID_UTF8),
        fc.string({ maxLength: 6 }),
        fc.boolean(),
      )
      .map(([bytes, at, bad, text, first]) => {
        const value = concat(Buffer.from(text, "utf8"), Uint8Array.from(bad));
        const leaf = lengthDelimited(at?.at(-1)?.number ?? 1, value);
        const spliced = at ? wrap(at, leaf) : leaf;
        return first ? concat(spliced, bytes) : concat(bytes, spliced);
      })
      .map(frame("bad-utf8")),
  );
}

// ---- Cases ----

interface Case {
  readonly method: Method;
  readonly frames: readonly Frame[];
  /** A valid first frame before the bad ones (a hello with the metadata's user; a seed message). */
  readonly validFirst: boolean;
  /** Streaming requests: half-close after the frames, else only once the call has been quiet. */
  readonly halfClose: boolean;
  /**
   * Streaming requests: frames written at once (usually one HTTP/2 DATA frame), a turn of
   * the event loop apart, or a few ms apart (the server answers one before the next comes).
   */
  readonly spacing: "together" | "apart" | "paced";
  readonly userId: string | undefined;
  readonly username: string;
}

const streamsRequests = (method: Method) =>
  method.kind === "client_streaming" || method.kind === "bidi_streaming";

/**
 * Metadata over 64 KiB never reaches gRPC: HTTP/2 refuses the header block
 * (RST_STREAM REFUSED_STREAM to a plain Node client; a grpc-js client loses
 * its whole connection with COMPRESSION_ERROR). Such calls go on a connection
 * of their own (as they would from a client of their own), and only for them
 * is that refusal a fine answer. 10 kB does reach the server.
 */
const HUGE_METADATA = 64 * 1024;

const userIdArb = fc.option(
  fc.oneof(
    { weight: 30, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }) },
    { weight: 3, arbitrary: fc.constantFrom("u".repeat(BIG / 10), "u".repeat(200)) },
    { weight: 1, arbitrary: fc.constantFrom("u".repeat(BIG), "0123456789".repeat(BIG / 10)) },
  ),
  { nil: undefined, freq: 3 },
);

/** Streaming requests carry the most state; they get three times the cases of the others. */
const caseArb: fc.Arbitrary<Case> = fc
  .oneof(
    ...METHODS.map((method) => ({
      weight: streamsRequests(method) ? 3 : 1,
      arbitrary: fc.record({
        method: fc.constant(method),
        frames: fc.array(frameOf(method.input), {
          minLength: 1,
          maxLength: streamsRequests(method) ? 5 : 1,
        }),
        validFirst: streamsRequests(method) ? fc.boolean() : fc.constant(false),
        halfClose: streamsRequests(method) ? fc.boolean() : fc.constant(true),
        spacing: streamsRequests(method)
          ? fc.constantFrom("together", "apart", "paced")
          : fc.constant("together"),
        userId: userIdArb,
        // Names are unique among the users online: one each, so a valid start gets through.
        username: fc.integer({ min: 1, max: 999_999_999 }).map((n) => `fuzz ${n}`),
      }),
    })),
  )
  // fast-check prints a failing batch: a line per case, not the frames' bytes.
  .map((c) => Object.assign(c, { [fc.toStringMethod]: () => summarizeCase(c) }));

/** A frame the method's server accepts as a start: a hello, or a seed message with our user. */
function validFirstFrame(method: Method, c: Case): Uint8Array {
  const schema = method.input;
  const identity: Record<string, unknown> = {};
  const hello = schema.fields.find((field) => field.localName === "hello");
  const target = hello?.fieldKind === "message" ? hello.message : schema;
  for (const field of target.fields) {
    if (field.localName === "userId") identity.userId = c.userId ?? `secret of ${c.username}`;
    if (field.localName === "username") identity.username = c.username;
  }
  if (hello?.oneof) {
    return encode(schema, { [hello.oneof.localName]: { case: "hello", value: identity } });
  }
  return encode(schema, identity);
}

// ---- Calls ----

interface Outcome {
  readonly code: status;
  readonly details: string;
  readonly received: number;
  readonly halfClosedLate: boolean;
  /** A server-streaming call still open, answered, and quiet: cancelled by the client. */
  readonly live: boolean;
  readonly ms: number;
}

const bytesOut = (bytes: Buffer) => bytes;
const bytesIn = (bytes: Buffer) => bytes;

function runCase(client: Client, c: Case): Promise<Outcome> {
  const { method } = c;
  const metadata = new Metadata();
  // A valid start comes from a guest (metadata user_id, the guest's secret), as a real one does.
  const userId = c.userId ?? (c.validFirst ? `secret of ${c.username}` : undefined);
  if (userId !== undefined) metadata.set("user_id", userId);
  const options = { deadline: Date.now() + CALL_DEADLINE_MS };
  const frames = [
    ...(c.validFirst ? [validFirstFrame(method, c)] : []),
    ...c.frames.map((frame) => frame.bytes),
  ].map((bytes) => Buffer.from(bytes));
  const started = performance.now();

  return new Promise<Outcome>((resolve) => {
    let received = 0;
    let halfClosedLate = false;
    let live = false;
    let quiet: NodeJS.Timeout | undefined;
    let done = false;
    // The client's own deadline ends every call; this only guards against a client that hangs.
    const guard = setTimeout(
      () => finish({ code: status.DEADLINE_EXCEEDED, details: "no status at all, even locally" }),
      CALL_DEADLINE_MS + 2_000,
    );
    const finish = (s: Pick<StatusObject, "code" | "details">) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(guard);
      resolve({
        code: s.code,
        details: s.details,
        received,
        halfClosedLate,
        live,
        ms: performance.now() - started,
      });
    };
    const onData = () => {
      received += 1;
    };

    if (method.kind === "unary") {
      const call = client.makeUnaryRequest(
        method.path,
        bytesOut,
        bytesIn,
        frames[0] as Buffer,
        metadata,
        options,
        () => {},
      );
      call.on("status", finish);
      return;
    }
    if (method.kind === "server_streaming") {
      const call = client.makeServerStreamRequest(
        method.path,
        bytesOut,
        bytesIn,
        frames[0] as Buffer,
        metadata,
        options,
      );
      // A server-streaming call that is answered and then quiet is live (Subscribe): fine, so
      // the client cancels it. One that is quiet before any answer must still end by itself.
      call.on("data", () => {
        onData();
        clearTimeout(quiet);
        quiet = setTimeout(() => {
          live = true;
          call.cancel();
        }, QUIET_MS);
      });
      call.on("error", () => {});
      call.on("status", finish);
      return;
    }
    let call: ClientWritableStream<Buffer> | ClientDuplexStream<Buffer, Buffer>;
    if (method.kind === "client_streaming") {
      call = client.makeClientStreamRequest(
        method.path,
        bytesOut,
        bytesIn,
        metadata,
        options,
        () => {},
      );
    } else {
      const duplex = client.makeBidiStreamRequest(
        method.path,
        bytesOut,
        bytesIn,
        metadata,
        options,
      );
      duplex.on("data", onData);
      call = duplex;
    }
    call.on("error", () => {});
    call.on("status", finish);
    const afterFrames = () => {
      if (done) return;
      if (c.halfClose) {
        call.end();
        return;
      }
      // Left open: a server that keeps the call is right to; once quiet, half-close it.
      quiet = setTimeout(() => {
        halfClosedLate = true;
        call.end();
      }, QUIET_MS);
    };
    if (c.spacing === "together") {
      for (const frame of frames) call.write(frame);
      afterFrames();
      return;
    }
    void (async () => {
      for (const frame of frames) {
        if (done) return;
        call.write(frame);
        await new Promise((next) =>
          c.spacing === "apart" ? setImmediate(next) : setTimeout(next, PACE_MS),
        );
      }
      afterFrames();
    })();
  });
}

function summarizeCase(c: Case): string {
  const frames = c.frames.map((frame) => `${frame.kind} ${frame.bytes.length} B`);
  return `${c.method.name}(${c.validFirst ? "valid first frame, " : ""}${frames.join(", ")}; ${c.spacing}${c.halfClose ? ", half-closed" : ""}${c.userId === undefined ? "" : `; user_id ${c.userId.length} chars`})`;
}

function describeCase(c: Case, outcome: Outcome): string {
  const frames = [
    ...(c.validFirst ? ["valid first frame"] : []),
    ...c.frames.map(
      (frame) =>
        `${frame.kind} (${frame.bytes.length} B: ${Buffer.from(frame.bytes.subarray(0, 24)).toString("hex")}${frame.bytes.length > 24 ? "..." : ""})`,
    ),
  ];
  return [
    `  ${c.method.name}: ${frames.join(", ")}`,
    `    half-closed: ${c.halfClose ? "yes" : outcome.halfClosedLate ? "after a quiet wait" : "no"}; frames ${c.spacing}; user_id: ${c.userId === undefined ? "none" : `${c.userId.length} chars`}`,
    `    -> ${status[outcome.code]} after ${outcome.ms.toFixed(0)} ms, ${outcome.received} messages received, details (${outcome.details.length} chars): ${JSON.stringify(outcome.details.slice(0, 160))}`,
  ].join("\n");
}

const hugeMetadata = (c: Case) => (c.userId?.length ?? 0) > HUGE_METADATA;

/** How HTTP/2 refuses a header block it will not decode (COMPRESSION_ERROR, REFUSED_STREAM). */
const REFUSED_BY_HTTP2 = /^Received RST_STREAM with code (7|9)\b/;

const NO_STATUS = "the call never ended with a status";
const SERVER_FAULT = "bad input was answered with a server fault";
const LONG_DETAILS = `the status details are over ${MAX_DETAILS} characters`;

/** What is wrong with how a call ended, if anything. */
function violation(c: Case, outcome: Outcome): string | undefined {
  if (outcome.live && outcome.code === status.CANCELLED) return undefined;
  if (hugeMetadata(c) && REFUSED_BY_HTTP2.test(outcome.details)) return undefined;
  if (outcome.code === status.DEADLINE_EXCEEDED) return NO_STATUS;
  if (SERVER_FAULTS.has(outcome.code)) return SERVER_FAULT;
  if (outcome.details.length > MAX_DETAILS) return LONG_DETAILS;
  return undefined;
}

interface Problem {
  readonly kind: string;
  readonly method: string;
  readonly text: string;
}

/** How many calls went wrong, how, and the first few of each kind. */
function summary(problems: readonly Problem[], calls: number): string {
  const kinds = [...new Set(problems.map((p) => p.kind))];
  return [
    `${problems.length} of ${calls} calls went wrong`,
    ...kinds.flatMap((kind) => {
      const ofKind = problems.filter((p) => p.kind === kind);
      const byMethod = new Map<string, number>();
      for (const p of ofKind) byMethod.set(p.method, (byMethod.get(p.method) ?? 0) + 1);
      const methods = [...byMethod].map(([method, n]) => `${method} ${n}`).join(", ");
      return [
        `${ofKind.length} times ${kind} (${methods}); for example:`,
        ...ofKind.slice(0, 3).map((p) => p.text),
      ];
    }),
  ].join("\n");
}

/** Whether the server can decode this frame as the method's request. */
function decodes(method: Method, frame: Frame): boolean {
  try {
    fromBinary(method.input, frame.bytes);
    return true;
  } catch {
    return false;
  }
}

/** A client on its own connection. */
function newClient(address: string): Client {
  return new Client(address, credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
}

describe("every RPC survives bad input", () => {
  let server: RunningChatServer;
  const serverErrors: string[] = [];
  const clients: Client[] = [];

  before(async () => {
    const logger = pino(
      { level: "error" },
      {
        write: (line: string) => {
          serverErrors.push(line);
        },
      },
    );
    // Abuse limits off (one address makes thousands of calls; rate-limited, Register and Login
    // would never look at their input) and cheap password hashing (Register and Login succeed).
    server = await startTestServer({ logger, limits: NO_ABUSE_LIMITS, passwordCost: 10 });
    for (let i = 0; i < 4; i++) clients.push(newClient(server.address));
    // History to replay: a join or a history call on the default room then writes for a
    // while (past a stream's flow-control window) when the next, bad, frame arrives.
    const writer = new SeedClient(server.address, "fuzz-history", "historian");
    try {
      await writer.joinChat();
      const text = "h".repeat(2_000);
      await writer.sendMessages(Array.from({ length: HISTORY }, () => ({ message: text })));
    } finally {
      writer.close();
    }
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("the fuzzed methods are the service's methods", () => {
    assert.deepEqual(
      METHODS.map((method) => method.path).sort(),
      Object.values(chatServiceDefinition)
        .map((definition) => definition.path)
        .sort(),
    );
    for (const name of ["ChatStream", "JoinChat", "SendMessages", "GetChatHistory", "Session"]) {
      assert.ok(
        METHODS.some((method) => method.name === name),
        `${name} is fuzzed`,
      );
    }
  });

  test("bad frames on every method: a status each time, never a server fault, short details", async (t) => {
    const tally = new Map<string, number>();
    const found: Problem[] = [];
    let calls = 0;
    /** Streams with a frame that does not decode: where a status went missing before. */
    let undecodableStreams = 0;
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const outcomes = await Promise.all(
          cases.map(async (c, i) => {
            if (!hugeMetadata(c)) return runCase(clients[i % clients.length] as Client, c);
            const own = newClient(server.address);
            try {
              return await runCase(own, c);
            } finally {
              own.close();
            }
          }),
        );
        const problems: Problem[] = [];
        cases.forEach((c, i) => {
          const outcome = outcomes[i] as Outcome;
          calls += 1;
          if (streamsRequests(c.method) && c.frames.some((f) => !decodes(c.method, f))) {
            undecodableStreams += 1;
          }
          const how = outcome.live
            ? "live"
            : hugeMetadata(c) && REFUSED_BY_HTTP2.test(outcome.details)
              ? "refused-by-HTTP/2"
              : status[outcome.code];
          const key = `${c.method.name} ${how}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
          const wrong = violation(c, outcome);
          if (wrong)
            problems.push({
              kind: wrong,
              method: c.method.name,
              text: `${wrong}:\n${describeCase(c, outcome)}`,
            });
        });
        found.push(...problems);
        if (!KEEP_GOING && problems.length > 0) {
          const logged =
            serverErrors.length > 0 ? `\nserver log:\n${serverErrors.slice(-3).join("")}` : "";
          throw new Error(`${summary(problems, cases.length)}${logged}`);
        }
      }),
      // No shrinking: outcomes depend on timing, and a call that hangs costs its whole deadline.
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    t.diagnostic(
      `${calls} calls in ${seconds} s (seed ${SEED}), ${undecodableStreams} of them streams with an undecodable frame`,
    );
    t.diagnostic(
      `statuses: ${[...tally]
        .sort()
        .map(([key, n]) => `${key} ${n}`)
        .join(", ")}`,
    );
    if (KEEP_GOING) t.diagnostic(summary(found, calls));
    assert.equal(found.length, 0, summary(found, calls));
  });

  test("afterwards the server still chats", async () => {
    const ann = await liveUser(server, "ann");
    const bob = await liveUser(server, "bob");
    try {
      await nextMatching(bob.events, (e) => e.type === "caught_up", "bob caught up");
      await within(ann.session.send("still here"), 5_000, "ann's ack");
      await nextMatching(bob.events, isText("still here"), "ann's message at bob");
    } finally {
      ann.client.close();
      bob.client.close();
    }
  });
});
