import type { MessageId, StoredMessage, UserId } from "./types.ts";

/** What the core pushes to a live stream. */
export type Outbound =
  | { readonly type: "message"; readonly message: StoredMessage }
  | { readonly type: "notice"; readonly text: string; readonly timeMs: number }
  | { readonly type: "caught_up"; readonly lastId: MessageId };

/**
 * Turns an outbound item into the bytes of one wire shape, or null when that
 * shape has no way to say it (the seed's stream has no "caught up", say).
 */
export type Encoder = (payload: Outbound) => Uint8Array | null;

/**
 * One outbound item on its way to many streams. Each wire shape encodes it at
 * most once, however many streams it goes to: the fan-out writes the same
 * bytes everywhere.
 */
export class Envelope {
  readonly payload: Outbound;
  /** Streams of this user do not get it (a message never goes back to its sender). */
  readonly excludeUserId: UserId | undefined;
  // At most one entry per wire shape (two today), so a Map stays tiny.
  readonly #encoded = new Map<Encoder, Uint8Array | null>();

  constructor(payload: Outbound, excludeUserId?: UserId) {
    this.payload = payload;
    this.excludeUserId = excludeUserId;
  }

  encode(encoder: Encoder): Uint8Array | null {
    let bytes = this.#encoded.get(encoder);
    if (bytes === undefined) {
      bytes = encoder(this.payload);
      this.#encoded.set(encoder, bytes);
    }
    return bytes;
  }
}
