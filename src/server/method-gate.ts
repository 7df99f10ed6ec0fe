import { authorize, callerIdentity } from "../core/access.ts";
import type { Chat } from "../core/chat.ts";
import { USER_ID_METADATA } from "../wire/grpc-service.ts";
import { authenticate } from "./auth.ts";
import type { MethodRule } from "./methods.ts";
import type { CallContext } from "./service-impl.ts";

/** A request header (gRPC metadata) by its lower-case name. */
export type HeaderReader = (key: string) => string | undefined;

/**
 * A method's row applied before its handler runs, the same on every
 * transport: who the caller is (from its headers only), whether it may make
 * the call (the core's access rule, by room where the row names one), and
 * what the call costs (a sign-in attempt against the caller's address).
 * Resolves to the call's context; rejects with the refusal.
 */
export async function admit(
  chat: Chat,
  rule: MethodRule<never>,
  header: HeaderReader,
  request: unknown,
  address: string,
): Promise<CallContext> {
  chat.governance.addressBans.check(address);
  const caller = await authenticate(chat, header, rule.access);
  const room = rule.room ? (rule.room as (request: unknown) => string)(request) : undefined;
  const { rules } = chat.governance;
  await authorize(caller, rule.access, room, rules, chat.limits.maxRoomChars, rule.posts === true);
  if (rule.rate === "attempts") await chat.rateLimits.attempt(address);
  const searcher = rule.rate === "searches" ? callerIdentity(caller) : undefined;
  if (searcher) await chat.rateLimits.search(searcher.userId);
  return { caller, address, guestSecret: header(USER_ID_METADATA) ?? "" };
}
