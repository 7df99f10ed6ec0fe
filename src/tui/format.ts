import type { ConnectionState } from "../client/live-chat.ts";

// Control characters (C0, DEL, C1) and the bidi overrides: text from others
// must never move the cursor, clear the screen, set the title or reorder
// what a person reads.
const UNSAFE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu;

/** Shows control and escape characters inert: ESC becomes "␛", a newline "␊", others "\u{…}". */
export function inert(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20) return String.fromCodePoint(0x2400 + code);
    if (code === 0x7f) return "␡";
    return `\\u{${code.toString(16)}}`;
  });
}

/** A connection state as a person reads it: "live", "reconnecting in 2 s (attempt 3)". */
export function describeState(state: ConnectionState): string {
  switch (state.kind) {
    case "connecting":
    case "live":
      return state.kind;
    case "reconnecting": {
      const s = state.inMs / 1000;
      return `reconnecting in ${s < 10 ? Number(s.toFixed(1)) : Math.round(s)} s (attempt ${state.attempt})`;
    }
    case "offline":
      return `offline: ${state.reason}`;
  }
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time: "HH:MM:SS" for today, "YYYY-MM-DD HH:MM:SS" for earlier days. */
export function formatTime(timeMs: number, nowMs: number = Date.now()): string {
  const d = new Date(timeMs);
  const now = new Date(nowMs);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay =
    d.getFullYear() === now.getFullYear() &&
    d.getMonth() === now.getMonth() &&
    d.getDate() === now.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

const NAME_COLOURS = [
  "cyan",
  "green",
  "yellow",
  "magenta",
  "blue",
  "red",
  "cyanBright",
  "greenBright",
] as const;
export type NameColour = (typeof NAME_COLOURS)[number];

/** The same name always gets the same colour, in every client and session. */
export function colourFor(name: string): NameColour {
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return NAME_COLOURS[hash % NAME_COLOURS.length] as NameColour;
}
