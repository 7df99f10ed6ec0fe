import { create } from "@bufbuild/protobuf";
import type { Login } from "../core/users.ts";
import {
  type AuthToken,
  AuthTokenSchema,
  type Credentials,
  LogoutResponseSchema,
  WhoAmIResponseSchema,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { clientAddress } from "./identity.ts";
import { unary } from "./unary.ts";

function toAuthToken(login: Login): AuthToken {
  return create(AuthTokenSchema, {
    token: login.token,
    userId: login.identity.userId,
    username: login.identity.username,
    expiresAtMs: BigInt(login.expiresMs),
  });
}

/** Register, Login, Logout, WhoAmI. Passwords and tokens are never logged. */
export function accountService(context: HandlerContext): Record<string, AuthedHandler> {
  const { chat, logger } = context;
  const { users } = chat;

  return {
    register: unary<Credentials>(logger, async (call, caller) => {
      users.attempt(clientAddress(call));
      const login = await users.register(caller, call.request.username, call.request.password);
      logger.info({ user: login.identity.userId }, "account registered");
      return toAuthToken(login);
    }),

    login: unary<Credentials>(logger, async (call) => {
      users.attempt(clientAddress(call));
      return toAuthToken(await users.login(call.request.username, call.request.password));
    }),

    logout: unary(logger, async (_call, caller) => {
      await users.logout(caller);
      return create(LogoutResponseSchema, {});
    }),

    whoAmI: unary(logger, (_call, caller) => {
      if (caller.kind === "anonymous") return create(WhoAmIResponseSchema, {});
      const account = caller.kind === "account";
      return create(WhoAmIResponseSchema, {
        userId: account ? caller.identity.userId : caller.userId,
        username: users.nameOf(caller) ?? "",
        account,
        expiresAtMs: BigInt(account ? caller.expiresMs : 0),
      });
    }),
  };
}
