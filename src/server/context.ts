import type { Logger } from "pino";
import type { Chat } from "../core/chat.ts";
import type { ConnectionsPerAddress } from "./connections.ts";

/** What every RPC handler is given. */
export interface HandlerContext {
  readonly chat: Chat;
  readonly logger: Logger;
  readonly connections: ConnectionsPerAddress;
  /** Where people reach the HTTP port; "" before it listens, or without one. */
  readonly publicUrl: () => string;
}
