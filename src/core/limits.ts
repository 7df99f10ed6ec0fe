import { ChatError } from "./chat-error.ts";

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
  /** Longest username, in characters after NFKC. Default 32. */
  readonly maxNameChars: number;
  /** Longest room name. Default 64. */
  readonly maxRoomChars: number;
  /** Messages per second per user, sustained; 0: no limit. Default 10. */
  readonly sendRate: number;
  /** Messages a user may send at once before the rate applies (a seed /batch of 100 fits). Default 120. */
  readonly sendBurst: number;
  /** Live streams (Session, Subscribe, ChatStream) one user may have open; 0: no limit. Default 20. */
  readonly maxSessionsPerUser: number;
  /** Connections with calls open from one client address; 0: no limit. Default 200. */
  readonly maxConnectionsPerIp: number;
  /** Register, Login and JoinChat calls per client address per minute; 0: no limit. Default 60. */
  readonly authAttemptsPerMinute: number;
  /** How long after sending a message its author may edit it, in ms; 0: no limit. Default 0. */
  readonly editWindowMs: number;
  /** Most different reactions (emoji) on one message. Default 20. */
  readonly maxReactions: number;
  /**
   * Messages per second from all guests at one client address together
   * (new guest identities are free, an address is not); 0: no limit. Default 30.
   */
  readonly guestSendsPerAddress: number;
  /** New guest names one client address may take per minute; 0: no limit. Default 20. */
  readonly guestNamesPerMinute: number;
  /** Searches one user may run per minute (up to 20 at once); 0: no limit. Default 120. */
  readonly searchesPerMinute: number;
  /** Posts each incoming webhook may make per minute (a third of that at once); 0: no limit. Default 60. */
  readonly webhookPostsPerMinute: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 4096,
  maxHistory: 1000,
  defaultHistory: 50,
  maxBatch: 1000,
  maxRooms: 100,
  maxNameChars: 32,
  maxRoomChars: 64,
  sendRate: 10,
  sendBurst: 120,
  maxSessionsPerUser: 20,
  maxConnectionsPerIp: 200,
  authAttemptsPerMinute: 60,
  editWindowMs: 0,
  maxReactions: 20,
  guestSendsPerAddress: 30,
  guestNamesPerMinute: 20,
  searchesPerMinute: 120,
  webhookPostsPerMinute: 60,
};

/** The same limits with every abuse limit off: for benchmarks and load tests. */
export const NO_ABUSE_LIMITS: Partial<Limits> = {
  sendRate: 0,
  maxSessionsPerUser: 0,
  maxConnectionsPerIp: 0,
  authAttemptsPerMinute: 0,
  guestSendsPerAddress: 0,
  guestNamesPerMinute: 0,
  searchesPerMinute: 0,
};

const MAX_SECRET_CHARS = 128;
const MAX_CLIENT_MSG_ID_CHARS = 64;
const CONTROL = /\p{Cc}/u;

function invalid(message: string): ChatError {
  return new ChatError("invalid_argument", message);
}

/** A guest's secret (its user_id): any 1-128 characters but controls. */
export function checkSecret(secret: string): string {
  if (secret.length === 0) throw invalid("A user_id is required.");
  if (secret.length > MAX_SECRET_CHARS) {
    throw invalid(`The user_id is longer than ${MAX_SECRET_CHARS} characters.`);
  }
  if (CONTROL.test(secret)) throw invalid("A user_id cannot contain control characters.");
  return secret;
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

/** The longest room topic, in characters. */
export const MAX_TOPIC_CHARS = 200;

/** A room topic: at most 200 characters on one line; "" clears it. */
export function checkTopic(topic: string): string {
  const text = topic.trim();
  if ([...text].length > MAX_TOPIC_CHARS) {
    throw invalid(`A topic is at most ${MAX_TOPIC_CHARS} characters.`);
  }
  if (/[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u.test(text)) {
    throw invalid("A topic is one line, with no control or direction-changing characters.");
  }
  return text;
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
