import type { DescService } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { ChatError } from "../core/chat-error.ts";

/**
 * A request message the server could not decode, handed on in its place.
 *
 * grpc-js answers a request deserializer that throws with INTERNAL (blaming
 * itself for the client's bytes), and sends that status itself, at once,
 * beside the handler. On a streaming call whose handler is still writing (a
 * Session's welcome, a replay) that status can be lost: grpc-js ends the
 * HTTP/2 stream while a message is being written, then writes the handler's
 * next message after that end; Node fails the write, the ended stream never
 * asks for its trailers, and the client waits for ever (test/fuzz.test.ts
 * finds it). So the server's deserializers never throw (`tolerantRequests`):
 * a call with one request is answered INVALID_ARGUMENT before its handler
 * runs (grpc-handlers.ts, which sees every call first), and a streamed
 * one reaches `eachMessage`, which makes it the handler's error, so its
 * status follows what was written.
 */
export class UndecodableRequest {
  readonly typeName: string;
  readonly cause: unknown;

  constructor(typeName: string, cause: unknown) {
    this.typeName = typeName;
    this.cause = cause;
  }

  toChatError(): ChatError {
    return new ChatError(
      "invalid_argument",
      `The server could not decode a request message as a ${this.typeName}.`,
      { cause: this.cause },
    );
  }
}

/**
 * The server's copy of a service definition: the same methods, with request
 * deserializers that return an UndecodableRequest instead of throwing.
 */
export function tolerantRequests(
  definition: ServiceDefinition,
  service: DescService,
): ServiceDefinition {
  // grpc-js types each method by its messages; ours vary per method, so any.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const tolerant: Record<string, MethodDefinition<any, any>> = { ...definition };
  for (const method of service.methods) {
    const original = definition[method.localName];
    if (!original) continue;
    const { typeName } = method.input;
    tolerant[method.localName] = {
      ...original,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return original.requestDeserialize(bytes);
        } catch (error) {
          return new UndecodableRequest(typeName, error);
        }
      },
    };
  }
  return tolerant;
}
