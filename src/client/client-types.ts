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
