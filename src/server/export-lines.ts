import type { ExportLine } from "../core/admin.ts";
import { ChatError } from "../core/chat-error.ts";

const isString = (value: unknown): value is string => typeof value === "string";
const isId = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) > 0;

function bad(lineNo: number, what: string): ChatError {
  return new ChatError(
    "invalid_argument",
    `Line ${lineNo} of the import is not a line an export writes: ${what}. Import a file made by Export (grpc-chat admin export), unchanged.`,
  );
}

/** One JSON line of an export, checked field by field: an import must not store what no export wrote. */
export function parseExportLine(text: string, lineNo: number): ExportLine {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw bad(lineNo, "it is not JSON");
  }
  if (typeof value !== "object" || value === null) throw bad(lineNo, "it is not an object");
  if (value.type === "room") {
    if (!isString(value.room) || !isString(value.topic) || !Array.isArray(value.roles)) {
      throw bad(lineNo, "a room line needs room, topic and roles");
    }
    return value as unknown as ExportLine;
  }
  if (value.type === "message") {
    const kindOk = value.kind === "chat" || value.kind === "system";
    if (!isString(value.room) || !isId(value.id) || !Number.isSafeInteger(value.timeMs)) {
      throw bad(lineNo, "a message line needs room, id and timeMs");
    }
    if (!isString(value.userId) || !isString(value.username) || !isString(value.text) || !kindOk) {
      throw bad(lineNo, "a message line needs userId, username, text and kind chat or system");
    }
    if (!Array.isArray(value.reactors)) throw bad(lineNo, "a message line needs reactors");
    return value as unknown as ExportLine;
  }
  throw bad(lineNo, 'its type is neither "room" nor "message"');
}
