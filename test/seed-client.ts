import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  credentials,
  loadPackageDefinition,
  Metadata,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/** The seed's messages as proto-loader decodes them (field names as in the .proto). */
export interface SeedChatMessage {
  user_id: string;
  username: string;
  message: string;
  timestamp: string;
}

export interface SeedJoinResponse {
  success: boolean;
  message: string;
}

export interface SeedMessageResponse {
  success: boolean;
  message_count: number;
  summary: string;
}

const definition = loadSync(fileURLToPath(new URL("fixtures/seed-chat.proto", import.meta.url)), {
  keepCase: true,
  defaults: true,
});
const ChatService = (loadPackageDefinition(definition).chat as Record<string, unknown>)
  .ChatService as ServiceClientConstructor;

/**
 * A client built only from the seed's own .proto, as the original Python
 * client is: proof that the seed's wire contract still works, independent of
 * our generated code.
 */
export class SeedClient {
  readonly userId: string;
  readonly username: string;
  readonly #client: Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(address: string, userId: string, username: string) {
    this.userId = userId;
    this.username = username;
    this.#client = new ChatService(address, credentials.createInsecure(), {
      "grpc.use_local_subchannel_pool": 1,
    }) as Client & Record<string, (...args: unknown[]) => unknown>;
  }

  metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set("user_id", this.userId);
    return metadata;
  }

  joinChat(
    user: { user_id: string; username: string } = { user_id: this.userId, username: this.username },
  ) {
    return new Promise<SeedJoinResponse>((resolve, reject) => {
      this.#client.JoinChat?.(user, (error: ServiceError | null, response: SeedJoinResponse) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  /** Opens ChatStream with metadata user_id, as the seed client does. */
  chatStream(
    metadata: Metadata = this.metadata(),
  ): ClientDuplexStream<SeedChatMessage, SeedChatMessage> {
    return this.#client.ChatStream?.(metadata) as ClientDuplexStream<
      SeedChatMessage,
      SeedChatMessage
    >;
  }

  /** Sends the messages in one SendMessages call. */
  sendMessages(messages: Partial<SeedChatMessage>[], metadata: Metadata = this.metadata()) {
    return new Promise<SeedMessageResponse>((resolve, reject) => {
      const call = this.#client.SendMessages?.(
        metadata,
        (error: ServiceError | null, response: SeedMessageResponse) =>
          error ? reject(error) : resolve(response),
      ) as ClientWritableStream<Partial<SeedChatMessage>>;
      for (const message of messages) call.write(message);
      call.end();
    });
  }

  /** GetChatHistory, collected; newest first as the server streams it. */
  getChatHistory(messageLimit: number, includeSystemMessages: boolean): Promise<SeedChatMessage[]> {
    return new Promise((resolve, reject) => {
      const call = this.#client.GetChatHistory?.({
        user_id: this.userId,
        message_limit: messageLimit,
        include_system_messages: includeSystemMessages,
      }) as ClientReadableStream<SeedChatMessage>;
      const messages: SeedChatMessage[] = [];
      call.on("data", (m: SeedChatMessage) => messages.push(m));
      call.on("error", reject);
      call.on("end", () => resolve(messages));
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** Reads a stream's messages as an async iterator, and its final status. */
export function streamReader<T>(call: ClientDuplexStream<unknown, T> | ClientReadableStream<T>) {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let error: ServiceError | undefined;
  call.on("data", (item: T) => {
    items.push(item);
    wake?.();
  });
  const finished = new Promise<ServiceError | undefined>((resolve) => {
    call.on("error", (e: ServiceError) => {
      error = e;
      ended = true;
      wake?.();
      resolve(e);
    });
    call.on("end", () => {
      ended = true;
      wake?.();
      resolve(error);
    });
  });
  const iterator: AsyncIterator<T> = {
    async next() {
      for (;;) {
        const item = items.shift();
        if (item !== undefined) return { value: item, done: false };
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    },
  };
  return { iterator, finished };
}

/**
 * A seed client as the seed's own program runs: JoinChat, then ChatStream
 * with its user_id in the metadata, opened with an empty message.
 */
export async function seedUser(
  server: { address: string },
  name: string,
  secret: string = randomUUID(),
) {
  const client = new SeedClient(server.address, secret, name);
  await client.joinChat();
  const call = client.chatStream();
  const reader = streamReader<SeedChatMessage>(call);
  call.write({ user_id: secret, username: name, message: "", timestamp: "" });
  return { client, call, ...reader };
}
