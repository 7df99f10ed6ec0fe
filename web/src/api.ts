import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { isRetryable } from "../../src/client/retry-policy.ts";
import { ChatService } from "../../src/gen/chat_pb.js";

export type ChatClient = Client<typeof ChatService>;

/** Who the page speaks for: sent in headers on every call, never shown. */
export type Credential =
  | { readonly kind: "guest"; readonly secret: string }
  | { readonly kind: "account"; readonly token: string };

/** A failed call as the page acts on it. */
export interface Failure {
  readonly code: Code;
  /** A sentence for the user. */
  readonly text: string;
  /** Set when the server said how long to wait before the same call may succeed. */
  readonly retryAfterMs: number | undefined;
}

/**
 * The one client of the page. `credential` is read on every call, so signing
 * in or out takes effect without a new transport.
 */
export function makeClient(credential: () => Credential | undefined): ChatClient {
  const identify: Interceptor = (next) => (request) => {
    const who = credential();
    if (who?.kind === "account") request.header.set("authorization", `Bearer ${who.token}`);
    else if (who?.kind === "guest") request.header.set("user_id", who.secret);
    return next(request);
  };
  const transport = createConnectTransport({
    baseUrl: location.origin,
    useBinaryFormat: true,
    interceptors: [identify],
  });
  return createClient(ChatService, transport);
}

/** Codes a later try can fix (a new connection, a pause): the policy every client shares. */
export function retryable(code: Code): boolean {
  return isRetryable(code);
}

export function failure(error: unknown): Failure {
  const connectError = ConnectError.from(error);
  const { code } = connectError;
  const wait = Number(connectError.metadata.get("retry-after-ms") ?? Number.NaN);
  // fetch fails with a TypeError when nothing answers: there is no server sentence to show.
  const unreachable = code === Code.Unknown && connectError.cause instanceof TypeError;
  let text = connectError.rawMessage;
  if (unreachable) text = "Cannot reach the server.";
  else if (code === Code.Canceled) text = "The request was cancelled.";
  else if (code === Code.DeadlineExceeded) text = "The server did not answer in time.";
  else if (text === "" || /^(HTTP|protocol error|missing)/.test(text)) {
    text = `The server could not be used (${Code[code]}).`;
  }
  return { code, text, retryAfterMs: Number.isFinite(wait) && wait >= 0 ? wait : undefined };
}
