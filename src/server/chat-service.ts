import { accountService } from "./account-service.ts";
import { adminService } from "./admin-service.ts";
import { botService } from "./bot-service.ts";
import { changeService } from "./change-service.ts";
import type { HandlerContext } from "./context.ts";
import { governanceService } from "./governance-service.ts";
import { moderationService } from "./moderation-service.ts";
import { roomService } from "./room-service.ts";
import { searchService } from "./search-service.ts";
import { seedService } from "./seed-service.ts";
import type { ChatServiceImpl } from "./service-impl.ts";
import { sessionService } from "./session-service.ts";
import { unaryService } from "./unary-service.ts";
import { webhookService } from "./webhook-service.ts";

/**
 * ChatService, every method, free of any transport: the native port
 * (grpc-handlers.ts) and the HTTP port (http/connect-routes.ts) are both
 * built from this one object and the method table (methods.ts).
 */
export function chatService(context: HandlerContext): ChatServiceImpl {
  return {
    ...seedService(context),
    ...sessionService(context),
    ...unaryService(context),
    ...accountService(context),
    ...roomService(context),
    ...changeService(context),
    ...governanceService(context),
    ...webhookService(context),
    ...botService(context),
    ...moderationService(context),
    ...adminService(context),
    ...searchService(context),
  };
}
