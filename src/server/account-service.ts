import { create } from "@bufbuild/protobuf";
import type { Login } from "../core/accounts.ts";
import {
  type AuthToken,
  AuthTokenSchema,
  type Credentials,
  LogoutResponseSchema,
  WhoAmIResponseSchema,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import type { CallContext, UnaryRpcs } from "./rpc.ts";

function toAuthToken(login: Login): AuthToken {
  return create(AuthTokenSchema, {
    token: login.token,
    userId: login.identity.userId,
    username: login.identity.username,
    expiresAtMs: BigInt(login.expiresMs),
  });
}

/** Register, Login, Logout, WhoAmI. Passwords and tokens are never logged. */
export function accountRpcs(context: HandlerContext): UnaryRpcs {
  const { chat, logger } = context;
  const { accounts, identities, rateLimits } = chat;

  return {
    register: async (request: Credentials, { caller, address }: CallContext) => {
      await rateLimits.attempt(address);
      const login = await accounts.register(caller, request.username, request.password);
      logger.info({ user: login.identity.userId }, "account registered");
      return toAuthToken(login);
    },

    login: async (request: Credentials, { address }: CallContext) => {
      await rateLimits.attempt(address);
      return toAuthToken(await accounts.login(request.username, request.password));
    },

    logout: async (_request: unknown, { caller }: CallContext) => {
      await accounts.logout(caller);
      return create(LogoutResponseSchema, {});
    },

    whoAmI: (_request: unknown, { caller }: CallContext) => {
      if (caller.kind === "anonymous") return create(WhoAmIResponseSchema, {});
      const account = caller.kind === "account";
      return create(WhoAmIResponseSchema, {
        userId: account ? caller.identity.userId : caller.userId,
        username: identities.nameOf(caller) ?? "",
        account,
        expiresAtMs: BigInt(account ? caller.expiresMs : 0),
      });
    },
  };
}
