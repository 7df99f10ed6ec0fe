import { randomBytes } from "node:crypto";
import type { WebhookRecord } from "../store/governance-store.ts";
import type { AppendResult, Store } from "../store/store.ts";
import { hashToken } from "./accounts.ts";
import type { AuditLog } from "./audit-log.ts";
import { BOT_ID_PREFIX } from "./bots.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import { checkUsername } from "./names.ts";
import type { RateLimits } from "./rate-limits.ts";
import type { RoomRules } from "./room-rules.ts";
import type { Sends } from "./sends.ts";
import type { Identity, RoomId } from "./types.ts";

/** The user ids of what webhooks post; no person's id has this form (guests are g-…). */
const WEBHOOK_ID_PREFIX = "h-";

/** Whether a message's sender is a webhook or a bot rather than a person. */
export function isBotUserId(userId: string): boolean {
  return userId.startsWith(WEBHOOK_ID_PREFIX) || userId.startsWith(BOT_ID_PREFIX);
}

/** Where a hook's secret goes on the HTTP port. */
export const WEBHOOK_PATH_PREFIX = "/hooks/";

const MAX_HOOKS_PER_ROOM = 50;

export interface WebhooksOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly sends: Sends;
  readonly maxNameChars: number;
  /** Each hook's rate (--webhook-posts-per-minute), the cluster's when there is one. */
  readonly rates: RateLimits;
}

/** What a POST to a hook carries. */
export interface HookPost {
  readonly text: string;
  /** Shown as the sender instead of the hook's name (Slack's `username`). */
  readonly username?: string;
  /** The same key stores the message once (the Idempotency-Key header). */
  readonly idempotencyKey?: string;
}

/**
 * Incoming webhooks: a room's moderators make a secret address that posts to
 * the room as the hook. A hook is not a member and is not held to the room's
 * rules (its moderators made it); it has a send rate of its own.
 */
export class Webhooks {
  readonly #options: WebhooksOptions;

  constructor(options: WebhooksOptions) {
    this.#options = options;
  }

  /** A new hook; its secret is in the answer only. Moderators. */
  async create(
    by: Identity,
    room: RoomId,
    rawName: string,
  ): Promise<{ hook: WebhookRecord; secret: string }> {
    const { store, clock, rules, audit } = this.#options;
    await rules.checkRank(by, room, "moderator");
    const name = checkUsername(rawName, this.#options.maxNameChars);
    const existing = await asChatError(store.webhooks(room));
    if (existing.filter((hook) => hook.revokedMs === 0).length >= MAX_HOOKS_PER_ROOM) {
      throw new ChatError(
        "resource_exhausted",
        `A room has at most ${MAX_HOOKS_PER_ROOM} webhooks; revoke one it no longer needs.`,
      );
    }
    const secret = randomBytes(24).toString("base64url");
    const hook: WebhookRecord = {
      id: `${WEBHOOK_ID_PREFIX}${randomBytes(12).toString("base64url")}`,
      secretHash: hashToken(secret),
      room,
      name,
      createdBy: by.userId,
      createdMs: clock.now(),
      revokedMs: 0,
    };
    if (!(await asChatError(store.createWebhook(hook)))) {
      throw new ChatError(
        "already_exists",
        `This room already has a webhook named "${name}"; pick another name or revoke that one.`,
      );
    }
    await audit.record(by, "create_webhook", room, { target: name, detail: "" });
    return { hook, secret };
  }

  /** The room's hooks, revoked ones too. Moderators. */
  async list(by: Identity, room: RoomId): Promise<WebhookRecord[]> {
    await this.#options.rules.checkRank(by, room, "moderator");
    return asChatError(this.#options.store.webhooks(room));
  }

  /** Its address stops working at once. Moderators. */
  async revoke(by: Identity, room: RoomId, name: string): Promise<WebhookRecord> {
    const { store, clock, rules, audit } = this.#options;
    await rules.checkRank(by, room, "moderator");
    const hook = await asChatError(store.revokeWebhook(room, name.trim(), clock.now()));
    if (!hook) {
      throw new ChatError(
        "not_found",
        `This room has no working webhook named "${name.trim()}"; list them to see their names.`,
      );
    }
    await audit.record(by, "revoke_webhook", room, { target: hook.name, detail: "" });
    return hook;
  }

  /** Posts `post` to the room of the hook whose secret this is. */
  async post(secret: string, post: HookPost): Promise<AppendResult> {
    const hook = await asChatError(this.#options.store.webhookBySecret(hashToken(secret)));
    if (hook?.revokedMs !== 0) {
      throw new ChatError(
        "not_found",
        "No webhook has this address, or it was revoked; ask the room's moderators for a new one.",
      );
    }
    await this.#options.rates.webhookPost(hook.id);
    const username =
      post.username === undefined || post.username.trim() === ""
        ? hook.name
        : checkUsername(post.username, this.#options.maxNameChars);
    return this.#options.sends.sendFromHook(
      { userId: hook.id, username },
      {
        room: hook.room,
        text: post.text,
        ...(post.idempotencyKey ? { clientMsgId: post.idempotencyKey } : {}),
      },
    );
  }
}
