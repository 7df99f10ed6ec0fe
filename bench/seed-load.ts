// Load on the seed's wire (JoinChat, then ChatStream), which both our server
// and the reference speak: each client on its own HTTP/2 connection.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ClientDuplexStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
} from "@grpc/grpc-js";
import { ChatMessageSchema, UserSchema } from "../src/gen/chat_pb.js";
import { chatServiceDefinition, USER_ID_METADATA } from "../src/wire/grpc-service.ts";

const Client = makeGenericClientConstructor(chatServiceDefinition, "ChatService");

// Received messages stay bytes until read: decoding is the load generator's cost, not the server's.
const rawDefinition = {
  ...chatServiceDefinition,
  chatStream: {
    ...chatServiceDefinition.chatStream,
    responseDeserialize: (bytes: Buffer) => bytes,
  },
} as typeof chatServiceDefinition;
const RawClient = makeGenericClientConstructor(rawDefinition, "ChatService");

export interface SeedConnection {
  readonly name: string;
  /** Writes one message; false when the stream's buffer is full (wait for `drained`). */
  write(text: string): boolean;
  drained(): Promise<void>;
  close(): void;
}

/** Joins as `name` and opens a ChatStream; `onMessage` gets each message's text. */
export async function connectSeed(
  address: string,
  name: string,
  onMessage: (text: string) => void,
): Promise<SeedConnection> {
  const options = { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1 };
  const join = new Client(address, credentials.createInsecure(), options) as unknown as {
    joinChat(request: unknown, callback: (error: Error | null) => void): void;
    close(): void;
  };
  const userId = `bench-${name}-${Math.random().toString(36).slice(2)}`;
  await new Promise<void>((resolve, reject) =>
    join.joinChat(create(UserSchema, { userId, username: name }), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  join.close();
  const client = new RawClient(address, credentials.createInsecure(), options) as unknown as {
    chatStream(metadata: Metadata): ClientDuplexStream<unknown, Buffer>;
    close(): void;
  };
  const metadata = new Metadata();
  metadata.set(USER_ID_METADATA, userId);
  const stream = client.chatStream(metadata);
  stream.on("data", (bytes: Buffer) => onMessage(fromBinary(ChatMessageSchema, bytes).message));
  stream.on("error", () => {});
  await new Promise((resolve) => setImmediate(resolve));
  return {
    name,
    write(text) {
      return stream.write(
        toBinary(
          ChatMessageSchema,
          create(ChatMessageSchema, { userId, username: name, message: text }),
        ),
      );
    },
    drained: () => new Promise((resolve) => stream.once("drain", resolve)),
    close() {
      stream.end();
      client.close();
    },
  };
}
