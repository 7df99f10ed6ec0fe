import type { ReportRecord, Store } from "../store/store.ts";
import { isDirectRoom } from "../wire/room-names.ts";
import type { AuditLog } from "./audit-log.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { ReportView } from "./governance-types.ts";
import type { People } from "./people.ts";
import type { RoomRules } from "./room-rules.ts";
import type { Identity, MessageId, RoomId } from "./types.ts";

export interface ReportsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly rules: RoomRules;
  readonly audit: AuditLog;
  readonly people: People;
  /** Tells the room's moderators on every node. */
  readonly announce: (room: RoomId, reportId: number) => void;
}

const MAX_REASON_CHARS = 500;
/** Messages shown before a reported one. */
const CONTEXT = 3;

/**
 * Members report messages to the room's moderators, who see a queue (each
 * report with its message in context) and resolve them.
 */
export class Reports {
  readonly #options: ReportsOptions;

  constructor(options: ReportsOptions) {
    this.#options = options;
  }

  async report(by: Identity, room: RoomId, messageId: MessageId, reason: string): Promise<number> {
    const { store, clock, rules } = this.#options;
    await rules.checkRead(by, room);
    if (isDirectRoom(room)) {
      throw new ChatError(
        "failed_precondition",
        "Direct messages have no moderators to report to; leave the conversation, or ask a server admin.",
      );
    }
    const why = reason.trim();
    const chars = [...why].length;
    if (chars === 0 || chars > MAX_REASON_CHARS) {
      throw new ChatError(
        "invalid_argument",
        `Say why you report it, in 1-${MAX_REASON_CHARS} characters.`,
      );
    }
    const message = await asChatError(store.message(room, messageId));
    if (message?.kind !== "chat") {
      throw new ChatError("not_found", `There is no message ${messageId} in ${room}.`);
    }
    const id = await asChatError(
      store.addReport({
        room,
        messageId,
        reporter: by.userId,
        reason: why,
        createdMs: clock.now(),
      }),
    );
    this.#options.announce(room, id);
    return id;
  }

  async list(
    by: Identity,
    room: RoomId,
    options: { limit: number; beforeId?: number; includeResolved: boolean },
  ): Promise<ReportView[]> {
    await this.#options.rules.checkRank(by, room, "moderator");
    const records = await asChatError(this.#options.store.reports(room, options));
    return Promise.all(records.map((record) => this.view(record)));
  }

  /** One report as moderators see it; undefined when the room has no such report. */
  async one(room: RoomId, id: number): Promise<ReportView | undefined> {
    const [record] = await asChatError(
      this.#options.store.reports(room, { limit: 1, beforeId: id + 1, includeResolved: true }),
    );
    return record?.id === id ? this.view(record) : undefined;
  }

  async resolve(by: Identity, room: RoomId, id: number, resolution: string): Promise<void> {
    const { store, clock, rules, audit } = this.#options;
    await rules.checkRank(by, room, "moderator");
    const text = resolution.trim().slice(0, MAX_REASON_CHARS);
    if (!(await asChatError(store.resolveReport(room, id, by.userId, text, clock.now())))) {
      throw new ChatError("not_found", `There is no open report ${id} in ${room}.`);
    }
    await audit.record(by, "resolve_report", room, { target: `report ${id}`, detail: text });
  }

  async view(record: ReportRecord): Promise<ReportView> {
    const { store, people } = this.#options;
    const [message, before] = await asChatError(
      Promise.all([
        store.message(record.room, record.messageId),
        store.history(record.room, {
          limit: CONTEXT,
          beforeId: record.messageId,
          includeSystem: false,
        }),
      ]),
    );
    return {
      id: record.id,
      room: record.room,
      message,
      context: before.reverse(),
      reporter: await people.identity(record.reporter),
      reason: record.reason,
      atMs: record.createdMs,
      resolvedBy: record.resolvedBy === "" ? undefined : await people.identity(record.resolvedBy),
      resolution: record.resolution,
      resolvedMs: record.resolvedMs,
    };
  }
}
