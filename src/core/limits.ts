import { ChatError } from "./chat-error.ts";
import { type RoomId, SYSTEM_USER_ID, SYSTEM_USERNAME, type UserId } from "./types.ts";

/** The input rules a server enforces. Every field has a default in {@link DEFAULT_LIMITS}. */
export interface Limits {
  /** Longest message text, in UTF-8 bytes. Default 4096. */
  readonly maxMessageBytes: number;
  /** Largest history page or `message_limit`. Default 1000. */
  readonly maxHistory: number;
  /** History size when a seed client asks for 0 or less. Default 50 (the seed's). */
  readonly defaultHistory: number;
  /** Most messages in one SendMessages batch. Default 1000. */
  readonly maxBatch: number;
  /** Most rooms one live stream may be in at once. Default 100. */
  readonly maxRooms: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 4096,
  maxHistory: 1000,
  defaultHistory: 50,
  maxBatch: 1000,
  maxRooms: 100,
};

const MAX_USERNAME_CHARS = 32;
const MAX_USER_ID_CHARS = 128;
const MAX_CLIENT_MSG_ID_CHARS = 64;
const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
// C0/C1 controls and DEL, plus the bidi overrides that can make a name read
// as something else.
const CONTROL = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

function invalid(message: string): ChatError {
  return new ChatError("invalid_argument", message);
}

/** Returns the username trimmed, or throws why it cannot be used. */
export function checkUsername(raw: string): string {
  const name = raw.trim();
  const chars = [...name].length;
  if (chars === 0) throw invalid("A username is required (1-32 characters).");
  if (chars > MAX_USERNAME_CHARS) {
    throw invalid(`The username is ${chars} characters long; the limit is ${MAX_USERNAME_CHARS}.`);
  }
  if (CONTROL.test(name)) throw invalid("A username cannot contain control characters.");
  if (name.toLowerCase() === SYSTEM_USERNAME.toLowerCase()) {
    throw invalid(`The username "${SYSTEM_USERNAME}" is reserved for the server.`);
  }
  return name;
}

export function checkUserId(userId: UserId): UserId {
  if (userId.length === 0) throw invalid("A user_id is required.");
  if (userId.length > MAX_USER_ID_CHARS) {
    throw invalid(`The user_id is longer than ${MAX_USER_ID_CHARS} characters.`);
  }
  if (CONTROL.test(userId)) throw invalid("A user_id cannot contain control characters.");
  if (userId === SYSTEM_USER_ID) throw invalid(`The user_id "${SYSTEM_USER_ID}" is reserved.`);
  return userId;
}

export function checkText(text: string, limits: Limits): string {
  if (text.trim().length === 0) throw invalid("A message needs some text.");
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > limits.maxMessageBytes) {
    throw invalid(
      `The message is ${bytes} bytes long; the limit is ${limits.maxMessageBytes} bytes (UTF-8).`,
    );
  }
  return text;
}

export function checkRoom(room: RoomId): RoomId {
  if (!ROOM_PATTERN.test(room)) {
    throw invalid(
      "A room name is 1-64 characters: letters, digits and _ . : -, starting with a letter or digit.",
    );
  }
  return room;
}

export function checkClientMsgId(id: string): string {
  if (id.length > MAX_CLIENT_MSG_ID_CHARS) {
    throw invalid(`The client_msg_id is longer than ${MAX_CLIENT_MSG_ID_CHARS} characters.`);
  }
  return id;
}

/** Resolves a requested history size: 0 or less means the default; above the cap is an error. */
export function checkHistoryLimit(requested: number, limits: Limits): number {
  if (requested <= 0) return limits.defaultHistory;
  if (requested > limits.maxHistory) {
    throw invalid(`At most ${limits.maxHistory} messages can be fetched at once; ask for fewer.`);
  }
  return requested;
}
