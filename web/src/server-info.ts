import type { ServerInfo } from "../../src/gen/chat_pb.js";
import type { ChatClient } from "./api.ts";

export type { ServerInfo };

/**
 * The server's limits and default room (GetServerInfo), asked once per page:
 * the page checks what it can before sending, and hard-codes none of it. A
 * failed ask is not kept, so the next one tries again.
 */
export class ServerInfoSource {
  readonly #client: ChatClient;
  #info: Promise<ServerInfo> | undefined;
  #known: ServerInfo | undefined;

  constructor(client: ChatClient) {
    this.#client = client;
  }

  /** What the server said, once it has. */
  get known(): ServerInfo | undefined {
    return this.#known;
  }

  get(): Promise<ServerInfo> {
    this.#info ??= this.#client.getServerInfo({}, { timeoutMs: 10_000 }).then(
      (info) => {
        this.#known = info;
        return info;
      },
      (error: unknown) => {
        this.#info = undefined;
        throw error;
      },
    );
    return this.#info;
  }
}

/** The size of `text` as the server counts a message: UTF-8 bytes. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
