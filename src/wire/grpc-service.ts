import {
  type DescMessage,
  type DescService,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { ChatMessageSchema, ChatService, HistoryPageSchema } from "../gen/chat_pb.js";
import { decodeHistoryPage } from "./message-decoding.ts";
import { encodeChatMessage, encodeHistoryPage } from "./message-encoding.ts";

// The messages sent most often, encoded by hand rather than by reflection.
const HAND_ENCODED = new Map<string, (value: never) => Uint8Array>([
  [HistoryPageSchema.typeName, encodeHistoryPage],
  [ChatMessageSchema.typeName, encodeChatMessage],
]);

/**
 * Serialises a message, or passes bytes through untouched: the fan-out
 * encodes a message once and hands the same bytes to every stream.
 */
function serializer<T extends DescMessage>(schema: T) {
  const encode =
    (HAND_ENCODED.get(schema.typeName) as ((value: MessageShape<T>) => Uint8Array) | undefined) ??
    ((value: MessageShape<T>) => toBinary(schema, value));
  return (value: MessageShape<T> | Uint8Array): Buffer => {
    const bytes = value instanceof Uint8Array ? value : encode(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

// What clients receive most in one piece, decoded by hand.
const HAND_DECODED = new Map<string, (bytes: Uint8Array) => unknown>([
  [HistoryPageSchema.typeName, decodeHistoryPage],
]);

function deserializer<T extends DescMessage>(schema: T) {
  const decode = HAND_DECODED.get(schema.typeName) as
    | ((bytes: Uint8Array) => MessageShape<T>)
    | undefined;
  return decode ?? ((bytes: Buffer): MessageShape<T> => fromBinary(schema, bytes));
}

/**
 * A grpc-js service definition derived from the protobuf-es descriptors, so
 * server and clients share one generated code set. Keys are the methods'
 * local names (`chatStream`, `joinChat`, ...).
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  // grpc-js types each method by its messages; ours vary per method, so any.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const definition: Record<string, MethodDefinition<any, any>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream:
        method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream:
        method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: serializer(method.input),
      requestDeserialize: deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
    };
  }
  return definition;
}

export const chatServiceDefinition: ServiceDefinition = grpcServiceDefinition(ChatService);

/** The gRPC metadata key that names the caller, as the seed client sends it. */
export const USER_ID_METADATA = "user_id";

/** The longest room name any server accepts (its --max-room-chars is at most this). */
export const ROOM_CHARS_CEILING = 256;

/** Trailing metadata on a refusal that will pass (a rate limit): ms until a retry can succeed. */
export const RETRY_AFTER_METADATA = "retry-after-ms";
