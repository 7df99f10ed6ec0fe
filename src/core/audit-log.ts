import type { AuditRecord, Store } from "../store/store.ts";
import { toChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { Identity, RoomId } from "./types.ts";

/** What an audit entry says beyond who, what and where. */
export interface AuditDetails {
  /** A user id, a message, an address range. */
  readonly target: string;
  readonly reason?: string;
  /** What changed, in words. */
  readonly detail?: string;
}

/**
 * The record of every moderation and admin action: who, what, where, to
 * whom, why and when. An action is written here after it took effect; a
 * store that fails here fails the call, so nothing is done unrecorded twice.
 */
export class AuditLog {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Records `action` by `actor` in `room` ("" for the whole server). */
  async record(
    actor: Identity,
    action: string,
    room: RoomId,
    details: AuditDetails,
  ): Promise<void> {
    try {
      await this.#store.addAudit({
        actor: actor.userId,
        action,
        room,
        target: details.target,
        reason: details.reason ?? "",
        detail: details.detail ?? "",
        createdMs: this.#clock.now(),
      });
    } catch (error) {
      throw toChatError(error);
    }
  }

  /** Entries newest first: one room's, or all when `room` is undefined. */
  async list(room: RoomId | undefined, limit: number, beforeId?: number): Promise<AuditRecord[]> {
    try {
      return await this.#store.audit({
        ...(room === undefined ? {} : { room }),
        limit,
        ...(beforeId === undefined ? {} : { beforeId }),
      });
    } catch (error) {
      throw toChatError(error);
    }
  }
}
