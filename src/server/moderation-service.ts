import { create } from "@bufbuild/protobuf";
import { ChatError } from "../core/chat-error.ts";
import { DEFAULT_ROOM } from "../core/types.ts";
import {
  ListAuditResponseSchema,
  ListBansResponseSchema,
  ListReportsResponseSchema,
  ModerationResponseSchema,
  ReportResponseSchema,
  ResolveReportResponseSchema,
} from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { auditEntry, reportInfo, sanction } from "./governance-encoding.ts";
import { toMessageId } from "./live-stream.ts";
import { checkPageSize, decodePageToken, encodePageToken } from "./page-token.ts";
import type { ChatServicePart } from "./service-impl.ts";

const MAX_DELETE_HOURS = 24 * 30;

function beforeIdOf(token: string): number | undefined {
  if (token === "") return undefined;
  const id = Number(decodePageToken(token)[0]);
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new ChatError(
      "invalid_argument",
      "The page_token is not one this server gave out; start again with an empty one.",
    );
  }
  return id;
}

/** The page token after `items` when a full page came back. */
function nextToken(items: readonly { id: number }[], size: number): string {
  const last = items.at(-1);
  return items.length === size && last ? encodePageToken([String(last.id)]) : "";
}

/** Kick, Ban, Unban, Mute, Unmute, ListBans, BanAddress, UnbanAddress, Report, ListReports, ResolveReport, ListAudit. */
export function moderationService(
  context: HandlerContext,
): ChatServicePart<
  | "kick"
  | "ban"
  | "unban"
  | "mute"
  | "unmute"
  | "listBans"
  | "banAddress"
  | "unbanAddress"
  | "report"
  | "listReports"
  | "resolveReport"
  | "listAudit"
> {
  const { chat } = context;
  const { moderation, addressBans, reports, audit, people } = chat.governance;
  const speaker = (caller: Parameters<typeof chat.identities.speaker>[0]) =>
    chat.identities.speaker(caller);
  const room = (request: { room: string }) => request.room || DEFAULT_ROOM;

  return {
    kick: async (request, { caller }) => {
      const user = await moderation.kick(
        await speaker(caller),
        room(request),
        request.user,
        request.reason,
      );
      return create(ModerationResponseSchema, { user });
    },

    ban: async (request, { caller }) => {
      if (request.deleteHours > MAX_DELETE_HOURS) {
        throw new ChatError(
          "invalid_argument",
          `A ban erases at most the last ${MAX_DELETE_HOURS} hours of messages.`,
        );
      }
      const { user, untilMs, erased } = await moderation.ban(
        await speaker(caller),
        room(request),
        request.user,
        Number(request.durationMs),
        request.reason,
        request.deleteHours,
      );
      return create(ModerationResponseSchema, { user, untilMs: BigInt(untilMs), deleted: erased });
    },

    unban: async (request, { caller }) => {
      const user = await moderation.lift(
        await speaker(caller),
        room(request),
        request.user,
        "unban",
      );
      return create(ModerationResponseSchema, { user });
    },

    mute: async (request, { caller }) => {
      const { user, untilMs } = await moderation.mute(
        await speaker(caller),
        room(request),
        request.user,
        Number(request.durationMs),
        request.reason,
      );
      return create(ModerationResponseSchema, { user, untilMs: BigInt(untilMs) });
    },

    unmute: async (request, { caller }) => {
      const user = await moderation.lift(
        await speaker(caller),
        room(request),
        request.user,
        "unmute",
      );
      return create(ModerationResponseSchema, { user });
    },

    listBans: async (request, { caller }) => {
      const me = await speaker(caller);
      const views =
        request.room === ""
          ? await addressBans.list(people)
          : await moderation.list(me, request.room);
      return create(ListBansResponseSchema, { bans: views.map(sanction) });
    },

    banAddress: async (request, { caller }) => {
      const me = await speaker(caller);
      const duration = Number(request.durationMs);
      if (!Number.isSafeInteger(duration) || duration < 0) {
        throw new ChatError(
          "invalid_argument",
          "A duration is a whole number of milliseconds, 0 for until lifted.",
        );
      }
      const untilMs = duration === 0 ? 0 : chat.now() + duration;
      await addressBans.ban(me, request.cidr, untilMs, request.reason.trim(), audit);
      chat.governance.announce("");
      return create(ModerationResponseSchema, { untilMs: BigInt(untilMs) });
    },

    unbanAddress: async (request, { caller }) => {
      await addressBans.lift(await speaker(caller), request.cidr, audit);
      chat.governance.announce("");
      return create(ModerationResponseSchema, {});
    },

    report: async (request, { caller }) => {
      const id = await reports.report(
        await speaker(caller),
        room(request),
        toMessageId(request.messageId),
        request.reason,
      );
      return create(ReportResponseSchema, { reportId: BigInt(id) });
    },

    listReports: async (request, { caller }) => {
      const size = Math.min(checkPageSize(request.pageSize, 20), 100);
      const beforeId = beforeIdOf(request.pageToken);
      const views = await reports.list(await speaker(caller), room(request), {
        limit: size,
        includeResolved: request.includeResolved,
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      return create(ListReportsResponseSchema, {
        reports: views.map(reportInfo),
        nextPageToken: nextToken(views, size),
      });
    },

    resolveReport: async (request, { caller }) => {
      await reports.resolve(
        await speaker(caller),
        room(request),
        Number(request.reportId),
        request.resolution,
      );
      return create(ResolveReportResponseSchema, {});
    },

    listAudit: async (request, { caller }) => {
      await speaker(caller);
      const size = Math.min(checkPageSize(request.pageSize, 100), 500);
      const beforeId = beforeIdOf(request.pageToken);
      const records = await audit.list(
        request.room === "" ? undefined : request.room,
        size,
        beforeId,
      );
      return create(ListAuditResponseSchema, {
        entries: await Promise.all(
          records.map((record) => auditEntry(record, (id) => people.identity(id))),
        ),
        nextPageToken: nextToken(records, size),
      });
    },
  };
}
