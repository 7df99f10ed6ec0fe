import { ChatError } from "../core/chat-error.ts";
import type { HandlerContext } from "./context.ts";
import type { ChatServicePart } from "./service-impl.ts";

const notYet = (): never => {
  throw new ChatError("failed_precondition", "Not built yet.");
};

/** CreateBot, ListBots, RevokeBot, SetNotify, SetEmail. */
export function botService(
  _context: HandlerContext,
): ChatServicePart<"createBot" | "listBots" | "revokeBot" | "setNotify" | "setEmail"> {
  return {
    createBot: notYet,
    listBots: notYet,
    revokeBot: notYet,
    setNotify: notYet,
    setEmail: notYet,
  };
}
