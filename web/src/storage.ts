/** What the page remembers across reloads, in localStorage (one key, JSON). */

export type Session =
  | { readonly kind: "guest"; readonly secret: string; readonly name: string }
  | { readonly kind: "account"; readonly token: string; readonly name: string };

export interface SavedRoom {
  readonly name: string;
  readonly peer: string;
  /** In the subscription (a DM can be listed without being open). */
  readonly open: boolean;
  /** The newest id the user has seen in the room: what counts as unread. */
  readonly readId: number;
}

export interface SavedSend {
  readonly room: string;
  readonly text: string;
  readonly clientMsgId: string;
  /** The message it answers (0: none). */
  readonly replyTo: number;
}

export interface Saved {
  session: Session | undefined;
  rooms: SavedRoom[];
  current: string;
  /** Sends not yet stored: sent again (same clientMsgId, so never twice) after a reload. */
  outbox: SavedSend[];
}

const KEY = "grpc-chat";

function empty(): Saved {
  return { session: undefined, rooms: [], current: "", outbox: [] };
}

export function load(): Saved {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw === null) return empty();
    const value = JSON.parse(raw) as Partial<Saved>;
    return {
      session: validSession(value.session) ? value.session : undefined,
      rooms: Array.isArray(value.rooms)
        ? value.rooms.filter((r) => typeof r?.name === "string")
        : [],
      current: typeof value.current === "string" ? value.current : "",
      outbox: Array.isArray(value.outbox)
        ? value.outbox
            .filter((s) => typeof s?.text === "string")
            .map((s) => ({ ...s, replyTo: Number.isSafeInteger(s.replyTo) ? s.replyTo : 0 }))
        : [],
    };
  } catch {
    // Unreadable (private mode, or another version wrote it): start afresh.
    return empty();
  }
}

function validSession(value: unknown): value is Session {
  const s = value as Partial<Record<string, unknown>> | undefined;
  if (typeof s?.name !== "string") return false;
  if (s.kind === "guest") return typeof s.secret === "string" && s.secret.length >= 32;
  return s.kind === "account" && typeof s.token === "string";
}

export function save(saved: Saved): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(saved));
  } catch {
    // Storage full or refused: the page works on, it only forgets on reload.
  }
}

export function forget(): void {
  try {
    localStorage.removeItem(KEY);
  } catch {
    // As in save.
  }
}

/** A guest's credential: 128 random bits, like a password. */
export function newGuestSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
