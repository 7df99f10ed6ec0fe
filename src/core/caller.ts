import type { Identity, UserId } from "./types.ts";

/** `open`: guests may chat under a free name; `required`: only accounts may. */
export type AuthMode = "open" | "required";

/** Who a call is, decided once per call from its credentials (never from a message). */
export type Caller =
  | {
      readonly kind: "account";
      readonly identity: Identity;
      readonly tokenHash: string;
      readonly expiresMs: number;
    }
  | { readonly kind: "guest"; readonly userId: UserId }
  | { readonly kind: "anonymous" };

/** The public id a caller acts as; undefined for one with no identity. */
export function callerId(caller: Caller): UserId | undefined {
  if (caller.kind === "account") return caller.identity.userId;
  return caller.kind === "guest" ? caller.userId : undefined;
}
