import { create } from "@bufbuild/protobuf";
import type { ServerUnaryCall, sendUnaryData } from "@grpc/grpc-js";
import type { Caller, Login } from "../core/users.ts";
import {
  type AuthToken,
  AuthTokenSchema,
  type Credentials,
  type LogoutRequest,
  type LogoutResponse,
  LogoutResponseSchema,
  type WhoAmIRequest,
  type WhoAmIResponse,
  WhoAmIResponseSchema,
} from "../gen/chat_pb.js";
import type { AuthedHandler } from "./auth.ts";
import type { HandlerContext } from "./context.ts";
import { clientAddress } from "./identity.ts";
import { toServiceError } from "./status.ts";

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
    async register(
      call: ServerUnaryCall<Credentials, AuthToken>,
      caller: Caller,
      callback: sendUnaryData<AuthToken>,
    ) {
      try {
        users.attempt(clientAddress(call));
        const login = await users.register(caller, call.request.username, call.request.password);
        logger.info({ user: login.identity.userId }, "account registered");
        callback(null, toAuthToken(login));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async login(
      call: ServerUnaryCall<Credentials, AuthToken>,
      _caller: Caller,
      callback: sendUnaryData<AuthToken>,
    ) {
      try {
        users.attempt(clientAddress(call));
        callback(
          null,
          toAuthToken(await users.login(call.request.username, call.request.password)),
        );
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    async logout(
      _call: ServerUnaryCall<LogoutRequest, LogoutResponse>,
      caller: Caller,
      callback: sendUnaryData<LogoutResponse>,
    ) {
      try {
        await users.logout(caller);
        callback(null, create(LogoutResponseSchema, {}));
      } catch (error) {
        callback(toServiceError(error, logger));
      }
    },

    whoAmI(
      _call: ServerUnaryCall<WhoAmIRequest, WhoAmIResponse>,
      caller: Caller,
      callback: sendUnaryData<WhoAmIResponse>,
    ) {
      if (caller.kind === "anonymous") {
        callback(null, create(WhoAmIResponseSchema, {}));
        return;
      }
      const account = caller.kind === "account";
      callback(
        null,
        create(WhoAmIResponseSchema, {
          userId: account ? caller.identity.userId : caller.userId,
          username: users.nameOf(caller) ?? "",
          account,
          expiresAtMs: BigInt(account ? caller.expiresMs : 0),
        }),
      );
    },
  };
}
