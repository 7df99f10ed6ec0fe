import { create } from "@bufbuild/protobuf";
import type { Login } from "../core/accounts.ts";
import {
  type AuthToken,
  AuthTokenSchema,
  LogoutResponseSchema,
  WhoAmIResponseSchema,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import type { ChatServicePart } from "./service-impl.ts";

export function toAuthToken(login: Login): AuthToken {
  return create(AuthTokenSchema, {
    token: login.token,
    userId: login.identity.userId,
    username: login.identity.username,
    expiresAtMs: BigInt(login.expiresMs),
  });
}

/**
 * Register, Login, Logout, WhoAmI. Passwords and tokens are never logged;
 * sign-in attempts are counted by the method table before these run.
 */
export function accountService(
  context: HandlerContext,
): ChatServicePart<"register" | "login" | "logout" | "whoAmI"> {
  const { chat, logger } = context;
  const { accounts, identities } = chat;

  return {
    register: async (request, { caller }) => {
      const login = await accounts.register(caller, request.username, request.password);
      logger.info({ user: login.identity.userId }, "account registered");
      return toAuthToken(login);
    },

    login: async (request) => {
      return toAuthToken(await accounts.login(request.username, request.password));
    },

    logout: async (_request, { caller }) => {
      await accounts.logout(caller);
      return create(LogoutResponseSchema, {});
    },

    whoAmI: async (_request, { caller }) => {
      if (caller.kind === "anonymous") return create(WhoAmIResponseSchema, {});
      const account = caller.kind === "account";
      const scope = account ? caller.identity.botScope : undefined;
      return create(WhoAmIResponseSchema, {
        userId: account ? caller.identity.userId : caller.userId,
        username: identities.nameOf(caller) ?? "",
        account,
        expiresAtMs: BigInt(account ? caller.expiresMs : 0),
        admin: account && chat.governance.rules.isAdmin(caller.identity),
        email: account && !scope ? await chat.notify.emailOf(caller.identity) : "",
        bot: scope !== undefined,
        botRooms: scope ? [...scope.rooms] : [],
        botReads: scope?.read ?? false,
      });
    },
  };
}
