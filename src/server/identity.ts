import type { Metadata } from "@grpc/grpc-js";
import type { Chat } from "../core/chat.ts";
import { ChatError } from "../core/chat-error.ts";
import type { Identity, UserId } from "../core/types.ts";
import { USER_ID_METADATA } from "../wire/grpc-service.ts";

/** The caller's `user_id` metadata, or "" when it sent none. */
export function metadataUserId(metadata: Metadata): UserId {
  const value = metadata.get(USER_ID_METADATA)[0];
  return typeof value === "string" ? value : "";
}

/**
 * Who a seed-style call belongs to: the metadata's user_id, else the one the
 * first message claims. The name is the one the user joined with, else the
 * one the message carries.
 */
export function seedIdentity(
  chat: Chat,
  fromMetadata: UserId,
  first: { userId: string; username: string },
): Identity {
  if (fromMetadata && first.userId && first.userId !== fromMetadata) {
    throw new ChatError(
      "invalid_argument",
      `This call was opened as user_id "${fromMetadata}", but a message claims user_id "${first.userId}".`,
    );
  }
  const userId = fromMetadata || first.userId;
  return chat.identify(userId, chat.nameOf(userId) ?? first.username);
}

/** Rejects a message that claims to come from someone other than the stream's user. */
export function checkClaim(identity: Identity, claimedUserId: UserId): void {
  if (claimedUserId && claimedUserId !== identity.userId) {
    throw new ChatError(
      "invalid_argument",
      `This stream belongs to user_id "${identity.userId}"; it cannot send as "${claimedUserId}".`,
    );
  }
}
