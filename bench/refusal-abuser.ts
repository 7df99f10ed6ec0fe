// The abuser of `npm run bench -- refusals`, in a process of its own so that
// its flood does not slow the clients that measure. One connection of its
// own, and one of three ways to ignore retry-after-ms:
//   session: one account's Session, writing sends as fast as flow control lets it;
//   unary:   one account's unary Sends, a fixed number in flight, each sent
//            again as soon as it is answered;
//   guests:  many guests' Sessions on the one connection, each at its own
//            send rate (within it), sending on whatever the server says;
//   names:   only gives each guest its name, then exits (guests at one address
//            may take 20 new names a minute, so they are taken ahead of time).
// A stream the server ends is opened again at once, as an abuser would.
// Talks to the parent over IPC: "ready" once connected, floods from "go" to
// "stop", then "done" with what the server answered.
import { setPriority } from "node:os";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import {
  type ClientDuplexStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { ClientFrameSchema, SendRequestSchema } from "../src/gen/chat_pb.js";
import {
  chatServiceDefinition,
  RETRY_AFTER_METADATA,
  USER_ID_METADATA,
} from "../src/wire/grpc-service.ts";

export type AbuserMode = "session" | "unary" | "guests" | "names";

export interface AbuserParams {
  readonly mode: AbuserMode;
  readonly address: string;
  readonly room: string;
  /** The abusing account's token (session, unary). */
  readonly token?: string;
  /** The guests' secrets and names (guests, names). */
  readonly guests?: ReadonlyArray<{ readonly secret: string; readonly name: string }>;
  /** Unary calls in flight at once. */
  readonly inFlight: number;
  /** Sends per second per guest. */
  readonly guestRate: number;
  /** The abuser's scheduling priority (0 as the rest; 19: only what the others leave). */
  readonly nice: number;
}

export interface StreamEnd {
  /** From "go", in ms. */
  readonly atMs: number;
  readonly code: number;
  readonly details: string;
}

export interface AbuserReport {
  readonly mode: AbuserMode;
  readonly seconds: number;
  /** Sends written (Session) or calls made (unary); not all reached the server. */
  readonly written: number;
  readonly acked: number;
  /** Refused for the rate: RESOURCE_EXHAUSTED. */
  readonly refused: number;
  /** Of those, how many said when to retry. */
  readonly withRetryAfter: number;
  /** Every answer but an ack, by gRPC status code name. */
  readonly codes: Record<string, number>;
  readonly endCount: number;
  /** The first few ends of a stream. */
  readonly ends: StreamEnd[];
  /** One refusal's reason, as the server words it. */
  readonly sampleReason: string;
  readonly cpuSeconds: number;
  /** Guests with a name (guests, names). */
  readonly named: number;
}

// Requests go out as bytes encoded once; answers stay bytes, read by hand.
const raw = (name: string) => {
  const definition = chatServiceDefinition[name];
  if (!definition) throw new Error(`no method ${name}`);
  return { ...definition, responseDeserialize: (bytes: Buffer) => bytes };
};
const RawClient = makeGenericClientConstructor(
  { session: raw("session"), send: raw("send") },
  "ChatService",
);
interface RawChatClient {
  session(metadata: Metadata): ClientDuplexStream<Uint8Array, Buffer>;
  send(
    request: Uint8Array,
    metadata: Metadata,
    callback: (error: ServiceError | null, response?: Buffer) => void,
  ): void;
  close(): void;
}

const frame = (kind: MessageInitShape<typeof ClientFrameSchema>) =>
  toBinary(ClientFrameSchema, create(ClientFrameSchema, kind));
const TEXT = "spam ".repeat(8);
const SEND_FRAME = (room: string) => frame({ kind: { case: "send", value: { room, text: TEXT } } });

/** Reads a varint at `offset`; returns it and the offset after it. */
function varint(bytes: Uint8Array, offset: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[offset++] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80 || offset >= bytes.length) return [value, offset];
  }
}

/** An Event's kind (its oneof field number) and that field's bytes. */
function eventKind(bytes: Uint8Array): { field: number; body: Uint8Array } {
  const [tag, at] = varint(bytes, 0);
  const [length, start] = varint(bytes, at);
  return { field: tag >>> 3, body: bytes.subarray(start, start + length) };
}

/** A SendRejected's code (field 2), reason (3) and retry_after_ms (5). */
function rejection(body: Uint8Array): { code: number; reason: string; retryAfterMs: number } {
  let code = 0;
  let reason = "";
  let retryAfterMs = 0;
  let offset = 0;
  while (offset < body.length) {
    const [tag, next] = varint(body, offset);
    offset = next;
    if ((tag & 7) === 0) {
      const [value, after] = varint(body, offset);
      offset = after;
      if (tag >>> 3 === 2) code = value;
      if (tag >>> 3 === 5) retryAfterMs = value;
    } else {
      const [length, start] = varint(body, offset);
      if (tag >>> 3 === 3) reason = Buffer.from(body.subarray(start, start + length)).toString();
      offset = start + length;
    }
  }
  return { code, reason, retryAfterMs };
}

const EVENT_WELCOME = 1;
const EVENT_ACK = 3;
const EVENT_REJECTED = 4;
const EVENT_JOINED = 8;

const params = JSON.parse(process.argv[2] ?? "{}") as AbuserParams;
if (params.nice) setPriority(params.nice);
const client = new RawClient(params.address, credentials.createInsecure(), {
  "grpc.use_local_subchannel_pool": 1,
  "grpc.max_receive_message_length": -1,
}) as unknown as RawChatClient;

const codes: Record<string, number> = {};
const ends: StreamEnd[] = [];
let written = 0;
let acked = 0;
let refused = 0;
let withRetryAfter = 0;
let endCount = 0;
let sampleReason = "";
let flooding = false;
let stopping = false;
let goAt = 0;
let stopAt = 0;
const cpuAtGo = { user: 0, system: 0 };

const codeName = (code: number) => status[code] ?? String(code);
function answered(code: number, reason: string, retryAfterMs: number) {
  if (!flooding) return;
  codes[codeName(code)] = (codes[codeName(code)] ?? 0) + 1;
  if (code === status.RESOURCE_EXHAUSTED) {
    refused += 1;
    if (retryAfterMs > 0) withRetryAfter += 1;
    if (!sampleReason) sampleReason = reason;
  }
}

const metadataFor = (who: { token?: string | undefined; secret?: string | undefined }) => {
  const metadata = new Metadata();
  if (who.token) metadata.set("authorization", `Bearer ${who.token}`);
  else metadata.set(USER_ID_METADATA, who.secret ?? "");
  return metadata;
};

/** One Session: hello (with a guest's name), join, then whatever the caller writes. */
interface OpenStream {
  readonly call: ClientDuplexStream<Uint8Array, Buffer>;
  /** Resolves once the room is joined (true), or the stream ended first (false). */
  readonly joined: Promise<boolean>;
  /** Resolves with how the stream ended. */
  readonly ended: Promise<{ code: number; details: string; retryAfterMs: number }>;
  isOpen(): boolean;
}

function openStream(who: { token?: string; secret?: string; name?: string }): OpenStream {
  const call = client.session(metadataFor(who));
  let open = true;
  let onJoined: (joined: boolean) => void = () => {};
  const joined = new Promise<boolean>((resolve) => {
    onJoined = resolve;
  });
  call.on("data", (bytes: Buffer) => {
    const { field, body } = eventKind(bytes);
    if (field === EVENT_ACK) {
      if (flooding) acked += 1;
    } else if (field === EVENT_REJECTED) {
      const r = rejection(body);
      answered(r.code, r.reason, r.retryAfterMs);
    } else if (field === EVENT_JOINED) onJoined(true);
    else if (field === EVENT_WELCOME) {
      // The hello was taken.
    }
  });
  const ended = new Promise<{ code: number; details: string; retryAfterMs: number }>((resolve) => {
    const finish = (code: number, details: string, metadata?: Metadata) => {
      if (!open) return;
      open = false;
      onJoined(false);
      resolve({
        code,
        details,
        retryAfterMs: Number(metadata?.get(RETRY_AFTER_METADATA)[0] ?? 0),
      });
    };
    call.on("error", (error: ServiceError) => finish(error.code, error.details, error.metadata));
    call.on("status", (s) => finish(s.code, s.details, s.metadata));
  });
  call.write(frame({ kind: { case: "hello", value: { username: who.name ?? "" } } }));
  call.write(frame({ kind: { case: "join", value: { room: params.room } } }));
  return { call, joined, ended, isOpen: () => open };
}

function noteEnd(end: { code: number; details: string }) {
  if (!flooding || stopping) return;
  endCount += 1;
  if (ends.length < 5) ends.push({ atMs: performance.now() - goAt, ...end });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const go = new Promise<void>((resolve) => {
  process.on("message", (message: { type: string }) => {
    if (message.type === "go") resolve();
    if (message.type === "stop") {
      stopping = true;
      flooding = false;
      stopAt = performance.now();
    }
  });
});
const stopped = () =>
  new Promise<void>((resolve) => {
    const check = () => (stopping ? resolve() : setTimeout(check, 5));
    check();
  });

/** Writes sends as fast as the stream takes them; opens a new stream when one ends. */
async function sessionFlood(first: OpenStream, token: string): Promise<void> {
  const bytes = SEND_FRAME(params.room);
  let stream = first;
  while (!stopping) {
    if (!stream.isOpen()) {
      noteEnd(await stream.ended);
      await sleep(10);
      stream = openStream({ token });
      continue;
    }
    let ok = true;
    for (let i = 0; i < 64 && ok; i++) {
      ok = stream.call.write(bytes);
      written += 1;
    }
    if (ok) await new Promise((resolve) => setImmediate(resolve));
    else {
      const { call } = stream;
      await Promise.race([
        new Promise((resolve) => call.once("drain", resolve)),
        stream.ended,
        stopped(),
      ]);
    }
  }
  stream.call.cancel();
}

/** Keeps `inFlight` unary Sends going, each sent again when answered. */
async function unaryFlood(token: string): Promise<void> {
  const request = toBinary(
    SendRequestSchema,
    create(SendRequestSchema, { room: params.room, text: TEXT }),
  );
  const metadata = metadataFor({ token });
  let inFlight = 0;
  await new Promise<void>((resolve) => {
    const one = () => {
      if (stopping) {
        if (inFlight === 0) resolve();
        return;
      }
      inFlight += 1;
      written += 1;
      client.send(request, metadata, (error) => {
        inFlight -= 1;
        if (!error) acked += 1;
        else {
          const retryAfter = Number(error.metadata?.get(RETRY_AFTER_METADATA)[0] ?? 0);
          answered(error.code, error.details, retryAfter);
        }
        one();
      });
    };
    for (let i = 0; i < params.inFlight; i++) one();
    // Calls still held when told to stop are not waited for.
    void stopped().then(() => setTimeout(resolve, 200));
  });
}

/** Gives each guest its name (a hello on a Session); retries those refused until `untilMs`. */
async function takeNames(untilMs: number): Promise<OpenStream[]> {
  const guests = params.guests ?? [];
  const streams: Array<OpenStream | undefined> = new Array(guests.length).fill(undefined);
  for (;;) {
    let wait = 0;
    await Promise.all(
      guests.map(async (guest, i) => {
        if (streams[i]) return;
        const stream = openStream(guest);
        if (await stream.joined) streams[i] = stream;
        else wait = Math.max(wait, (await stream.ended).retryAfterMs || 1_000);
      }),
    );
    const named = streams.filter(Boolean).length;
    if (named === guests.length || performance.now() + wait > untilMs) break;
    await sleep(wait);
  }
  return streams.filter((s): s is OpenStream => s !== undefined);
}

/** Each guest sends at its own rate, whatever the answers; a guest whose stream ends reconnects. */
async function guestFlood(first: OpenStream[]): Promise<void> {
  const guests = params.guests ?? [];
  const bytes = SEND_FRAME(params.room);
  const streams = [...first];
  const periodMs = 1000 / params.guestRate;
  const timers = streams.map((_, i) => {
    const guest = guests[i] as { secret: string; name: string };
    let reopening = false;
    const tick = () => {
      const stream = streams[i] as OpenStream;
      if (stream.isOpen()) {
        stream.call.write(bytes);
        written += 1;
      } else if (!reopening) {
        reopening = true;
        void stream.ended.then((end) => {
          noteEnd(end);
          streams[i] = openStream(guest);
          reopening = false;
        });
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const start = setTimeout(() => {
      tick();
      timer = setInterval(tick, periodMs);
    }, Math.random() * periodMs);
    return () => {
      clearTimeout(start);
      clearInterval(timer);
    };
  });
  await stopped();
  for (const clear of timers) clear();
  for (const stream of streams) stream?.call.cancel();
}

const send = (message: object) =>
  new Promise<void>((resolve) => process.send?.(message, () => resolve()));

let named = 0;
let first: OpenStream | undefined;
let guestStreams: OpenStream[] = [];
if (params.mode === "session") {
  first = openStream({ token: params.token as string });
  if (!(await first.joined))
    throw new Error(`the abuser's session ended: ${(await first.ended).details}`);
} else if (params.mode === "guests" || params.mode === "names") {
  // A minute is long enough for 20 new names; the first run took most of them.
  guestStreams = await takeNames(performance.now() + (params.mode === "names" ? 0 : 90_000));
  named = guestStreams.length;
  if (params.mode === "names") {
    for (const stream of guestStreams) stream.call.cancel();
    client.close();
    await send({ type: "done", named });
    process.exit(0);
  }
}
await send({ type: "ready", named });
await go;
flooding = true;
goAt = performance.now();
const cpu = process.cpuUsage();
cpuAtGo.user = cpu.user;
cpuAtGo.system = cpu.system;
if (params.mode === "session") await sessionFlood(first as OpenStream, params.token as string);
else if (params.mode === "unary") await unaryFlood(params.token as string);
else await guestFlood(guestStreams);
const seconds = (stopAt - goAt) / 1000;
const used = process.cpuUsage();
client.close();
const report: AbuserReport = {
  mode: params.mode,
  seconds,
  written,
  acked,
  refused,
  withRetryAfter,
  codes,
  endCount,
  ends,
  sampleReason,
  cpuSeconds: (used.user - cpuAtGo.user + used.system - cpuAtGo.system) / 1e6,
  named,
};
await send({ type: "done", report });
process.exit(0);
