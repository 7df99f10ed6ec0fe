// Load on the seed's wire (JoinChat, then ChatStream), which both our server
// and the reference speak. A SeedChannel is one HTTP/2 connection; streams
// opened on it share it.
import { create, toBinary } from "@bufbuild/protobuf";
import {
  type ClientDuplexStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { ChatMessageSchema, UserSchema } from "../src/gen/chat_pb.js";
import { chatServiceDefinition, USER_ID_METADATA } from "../src/wire/grpc-service.ts";

// Received messages stay bytes until read: decoding is the load generator's cost, not the server's.
const rawDefinition = {
  ...chatServiceDefinition,
  chatStream: {
    ...chatServiceDefinition.chatStream,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
} as typeof chatServiceDefinition;
const RawClient = makeGenericClientConstructor(rawDefinition, "ChatService");

interface RawSeedClient {
  joinChat(request: unknown, callback: (error: Error | null) => void): void;
  chatStream(metadata: Metadata): ClientDuplexStream<unknown, Buffer>;
  close(): void;
}

/**
 * Field `field` of a message as raw bytes, read straight from its bytes: the
 * load generator reads every copy it receives, and a full decode made it the
 * limit sooner, for every server alike.
 */
export function lengthField(bytes: Uint8Array, field: number): Uint8Array | undefined {
  let offset = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (offset < bytes.length) {
    const tag = varint();
    const type = tag & 7;
    if (type === 0) {
      varint();
      continue;
    }
    if (type === 1 || type === 5) {
      offset += type === 1 ? 8 : 4;
      continue;
    }
    const length = varint();
    if (tag >>> 3 === field) return bytes.subarray(offset, offset + length);
    offset += length;
  }
  return undefined;
}

/** Bytes as UTF-8 text, through a Buffer view (no copy): faster than TextDecoder on short texts. */
export function utf8Text(bytes: Uint8Array | undefined): string {
  return bytes
    ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
    : "";
}

/** A ChatMessage's text (field 3). */
function messageText(bytes: Buffer): string {
  return utf8Text(lengthField(bytes, 3));
}

/** One client connection of its own (grpc-js would otherwise share one between clients). */
export function seedChannel(address: string): RawSeedClient {
  return new RawClient(address, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.max_receive_message_length": -1,
  }) as unknown as RawSeedClient;
}

export interface SeedConnection {
  readonly name: string;
  /** Writes one message; false when the stream's buffer is full (wait for `drained`). */
  write(text: string): boolean;
  drained(): Promise<void>;
  close(): void;
}

/**
 * Joins as `name` and opens a ChatStream on `channel` (its own connection
 * when none is given); `onMessage` gets each message's text.
 */
export async function connectSeed(
  address: string,
  name: string,
  onMessage: (text: string) => void,
  channel?: RawSeedClient,
): Promise<SeedConnection> {
  const client = channel ?? seedChannel(address);
  const userId = `bench-${name}-${Math.random().toString(36).slice(2)}`;
  await new Promise<void>((resolve, reject) =>
    client.joinChat(create(UserSchema, { userId, username: name }), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  const metadata = new Metadata();
  metadata.set(USER_ID_METADATA, userId);
  const stream = client.chatStream(metadata);
  stream.on("data", (bytes: Buffer) => onMessage(messageText(bytes)));
  stream.on("error", () => {});
  return {
    name,
    write(text) {
      const message = create(ChatMessageSchema, { userId, username: name, message: text });
      return stream.write(toBinary(ChatMessageSchema, message));
    },
    drained: () => new Promise((resolve) => stream.once("drain", resolve)),
    close() {
      stream.end();
      if (!channel) client.close();
    },
  };
}
