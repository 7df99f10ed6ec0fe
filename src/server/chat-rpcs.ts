import { accountRpcs } from "./account-service.ts";
import type { HandlerContext } from "./context.ts";
import { roomRpcs } from "./room-service.ts";
import type { UnaryRpcs } from "./rpc.ts";
import { unaryRpcs } from "./unary-service.ts";

/** Every unary call of our API, as the transports serve it (the seed's JoinChat is gRPC's own). */
export function chatRpcs(context: HandlerContext): UnaryRpcs {
  return { ...unaryRpcs(context), ...accountRpcs(context), ...roomRpcs(context) };
}
