import type { Caller } from "../core/caller.ts";

/** All a handler needs of its transport: who is calling, and from which address. */
export interface CallContext {
  readonly caller: Caller;
  /** The client's address without its port, for limits per address. */
  readonly address: string;
  /** The `user_id` header as sent (a guest's secret), or "" when none was. */
  readonly guestSecret: string;
}

/**
 * One unary call's logic, free of any transport: what it returns is the
 * response, what it throws becomes the status. The native gRPC port and the
 * HTTP port (Connect, gRPC-Web) each wrap the same functions.
 */
export type UnaryRpc = (request: never, call: CallContext) => unknown;

/** Unary calls by the method's local name (`send`, `listRooms`, ...). */
export type UnaryRpcs = Record<string, UnaryRpc>;
