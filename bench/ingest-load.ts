// The lean load of `npm run bench -- ingest` (one send each): Session
// streams written by hand as gRPC frames over node:http2, each sender on a
// connection of its own, its sends encoded by hand and its events read by
// their first byte, so the load costs a small part of what the server spends
// on each send and the figure is the server's, not the load's.
import { type ClientHttp2Stream, connect } from "node:http2";
import { USER_ID_METADATA } from "../src/wire/grpc-service.ts";
import type { IngestResult } from "./store-scenarios.ts";

/** Event's first tag byte for each case the load cares about (field << 3 | length-delimited). */
const ACK = (3 << 3) | 2;
const REJECTED = (4 << 3) | 2;
const CAUGHT_UP = (6 << 3) | 2;

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return bytes;
}

/** A protobuf length-delimited field. */
function field(number: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2, ...varint(payload.byteLength)]), payload]);
}

/** A gRPC frame of a ClientFrame with `kind` (hello 1, send 2, join 3) holding `fields`. */
function clientFrame(kind: number, fields: Buffer[]): Buffer {
  const message = field(kind, Buffer.concat(fields));
  const frame = Buffer.allocUnsafe(message.byteLength + 5);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  message.copy(frame, 5);
  return frame;
}

const text = (value: string) => Buffer.from(value);

/** One Session: hello as `name`, join a room of its own, then sends to the lobby, where no one is. */
async function openSender(
  address: string,
  name: string,
  onEvent: (tag: number) => void,
): Promise<{ stream: ClientHttp2Stream; close(): void }> {
  const session = connect(`http://${address}`);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/chat.ChatService/Session",
    "content-type": "application/grpc+proto",
    te: "trailers",
    [USER_ID_METADATA]: `bench-${name}-${Math.random().toString(36).slice(2)}`,
  });
  stream.on("error", () => {});
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    while (pending.length - offset >= 5) {
      const length = pending.readUInt32BE(offset + 1);
      if (pending.length - offset - 5 < length) break;
      onEvent(length === 0 ? 0 : (pending[offset + 5] as number));
      offset += 5 + length;
    }
    pending = pending.subarray(offset);
  });
  stream.write(clientFrame(1, [field(2, text(name))]));
  stream.write(clientFrame(3, [field(1, text(name))]));
  return { stream, close: () => session.destroy() };
}

/**
 * `senders` Sessions, each keeping `window` sends in flight for `seconds`;
 * counts the acks (an ack means committed at the server's durability).
 */
export async function runLeanIngest(
  address: string,
  senders: number,
  seconds: number,
  window: number,
  { first = 0, ready = async () => {} }: { first?: number; ready?: () => Promise<void> } = {},
): Promise<IngestResult & { rejected: number }> {
  let acknowledged = 0;
  let rejected = 0;
  let until = Number.POSITIVE_INFINITY;
  const finished: Array<Promise<void>> = [];
  const opened = await Promise.all(
    Array.from({ length: senders }, async (_, i) => {
      const name = `ingest${first + i}`;
      let live: () => void = () => {};
      const caughtUp = new Promise<void>((resolve) => {
        live = resolve;
      });
      let inFlight = 0;
      let n = 0;
      let done: () => void = () => {};
      finished.push(
        new Promise((resolve) => {
          done = resolve;
        }),
      );
      let sender: { stream: ClientHttp2Stream; close(): void } | undefined;
      const next = () => {
        while (inFlight < window && performance.now() < until && sender) {
          inFlight += 1;
          const id = String(n++);
          sender.stream.write(clientFrame(2, [field(2, text(`ingest ${id}`)), field(3, text(id))]));
        }
        if (inFlight === 0 && performance.now() >= until) done();
      };
      sender = await openSender(address, name, (tag) => {
        if (tag === CAUGHT_UP) live();
        if (tag !== ACK && tag !== REJECTED) return;
        if (tag === ACK) acknowledged += 1;
        else rejected += 1;
        inFlight -= 1;
        next();
      });
      await caughtUp;
      return { sender, start: next };
    }),
  );
  await ready();
  const started = performance.now();
  until = started + seconds * 1000;
  for (const { start } of opened) start();
  await Promise.all(finished);
  const elapsed = (performance.now() - started) / 1000;
  for (const { sender } of opened) sender.close();
  return { acknowledged, rejected, perSecond: acknowledged / elapsed };
}
