import type { ChannelOptions } from "@grpc/grpc-js";
import type { ChatClientError, Member, SessionEvent } from "./events.ts";

/** A room as the room list shows it. */
export interface RoomEntry {
  readonly room: string;
  readonly lastId: number;
  readonly lastMessageMs: number;
  readonly online: number;
  readonly topic: string;
  /** For a direct-message room: the other user. */
  readonly peer: Member | undefined;
  /** Messages from others above our read marker (capped by the server). */
  readonly unread: number;
  /** How many of those mention us. */
  readonly mentions: number;
  /** Our read marker (0: none). */
  readonly lastReadId: number;
  /** How we are told about it: every message, mentions (and DMs), or nothing. */
  readonly notify: "all" | "mentions" | "off";
}

export interface ChatClientOptions {
  /** "host:port". */
  readonly address: string;
  /** The name to chat under as a guest; an account's name is its own. */
  readonly username: string;
  /**
   * A guest's secret, sent as metadata user_id: whoever sends it is this
   * guest. Default: a new random UUID, as the seed client makes one.
   */
  readonly userId?: string;
  /** A token from login or register: the client is that account, and userId is not sent. */
  readonly token?: string;
  /** TLS: true for the system's roots, or the PEM of the CA that signed the server's certificate. */
  readonly tls?: boolean | { readonly ca: Buffer };
  readonly channelOptions?: ChannelOptions;
}

/** What the server says of a caller (WhoAmI), or of a new login. */
export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly account: boolean;
  /** When the token expires (ms since the epoch); 0 for a guest. */
  readonly expiresMs: number;
  /** From whoAmI: where unread mentions are emailed (absent: nowhere). */
  readonly email?: string;
  /** From whoAmI: the token is a bot's. */
  readonly bot?: boolean;
  /** From whoAmI, for a bot: the rooms its token may use. */
  readonly botRooms?: readonly string[];
}

/** A login: the token to keep (it is shown once) and who it is for. */
export interface LoginResult extends Principal {
  readonly token: string;
}

/** Where delivery of a room starts: after `resumeAfterId` (0: from the start), else live at its head. */
export interface RoomStart {
  readonly room: string;
  readonly resumeAfterId?: number | undefined;
  /** The epoch the id belongs to (from the room's joined event). */
  readonly epoch?: string;
}

/** A live subscription on one server-streaming call. */
export interface ChatSubscription extends AsyncIterable<SessionEvent> {
  readonly ended: Promise<ChatClientError | undefined>;
  cancel(): void;
}

/** What a server says of its rules (GetServerInfo): what a client may check before sending. */
export interface ServerLimits {
  /** Only accounts may chat; guests are refused. */
  readonly accountsRequired: boolean;
  /** The longest message text, in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** The longest username, in characters after NFKC. */
  readonly maxNameChars: number;
  /** The longest public room name. */
  readonly maxRoomChars: number;
  /** The most rooms one session may be in at once. */
  readonly maxRooms: number;
  /** The largest history page. */
  readonly maxHistory: number;
  /** The longest topic, in characters. */
  readonly maxTopicChars: number;
  /** The most messages in one batch. */
  readonly maxBatch: number;
  /** The room the seed's RPCs use, and the one an empty room name means. */
  readonly defaultRoom: string;
  /** How long after sending a message may be edited, in ms (0: no limit). */
  readonly editWindowMs: number;
  /** How long a typing state lasts without another SetTyping, in ms. */
  readonly typingExpiryMs: number;
  /** The most different reactions on one message. */
  readonly maxReactions: number;
  /**
   * Joins and leaves arrive as system lines of the log, so presence events
   * need no line of their own (topics always arrive as lines).
   */
  readonly joinLines: boolean;
  /** Where people reach the server's HTTP port ("" without one): webhook addresses start here. */
  readonly publicUrl: string;
}
