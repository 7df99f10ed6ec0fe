import type { Writable } from "node:stream";
import type { ChatLine } from "../client/chat-client.ts";
import {
  type ChatController,
  type ChatView,
  type DisplayItem,
  itemRoom,
} from "./chat-controller.ts";
import { describeState, formatTime, inert } from "./format.ts";
import { ansiRow, markupRows } from "./markup-spans.ts";
import {
  BOT_MARK,
  DELETED_TEXT,
  describeChange,
  EDITED_MARK,
  quoteText,
  reactionsText,
} from "./message-text.ts";
import { BEL } from "./notify.ts";

const CONCEAL = "\u001b[8m";
const REVEAL = "\u001b[28m";

/** How line mode prints: with ANSI styles (on a terminal), and with message numbers (/ids). */
export interface LineFormat {
  readonly ansi?: boolean;
  readonly showIds?: boolean;
}

/**
 * One line per item: `[time] name: text` for messages, or with more than one
 * room open `[time] #room name: text`; changes as `[time] bob edited #41:
 * text`. What scripts and tests read: piped, a message's text is printed as
 * typed (its Markdown unrendered).
 */
export function formatLine(
  item: DisplayItem,
  roomLabel?: string,
  format: LineFormat = {},
): string | undefined {
  const where = roomLabel === undefined ? "" : `${inert(roomLabel)} `;
  switch (item.kind) {
    case "sent":
    case "quote":
      return undefined;
    case "message": {
      const { line } = item;
      const number = format.showIds && line.id > 0 ? `#${line.id} ` : "";
      const quote = quoteText(line, item.quote);
      const about = quote === undefined ? "" : ` (${quote})`;
      return `[${formatTime(line.timeMs)}] ${where}${number}${inert(line.username)}${line.bot ? ` ${BOT_MARK}` : ""}${about}: ${messageBody(line, format)}`;
    }
    case "change":
      return `[${formatTime(item.entry.timeMs)}] ${where}${describeChange(item.entry)}`;
    case "info":
      return inert(item.text);
    case "error":
      return `error: ${inert(item.text)}`;
  }
}

/** A message's text with what it carries: (edited), its reactions; a tombstone for a deleted one. */
function messageBody(line: ChatLine, format: LineFormat): string {
  if (line.deleted) return `(${DELETED_TEXT})`;
  const text = format.ansi ? markupRows(line.text).map(ansiRow).join("\n") : inert(line.text);
  const marks = [line.editedAtMs ? EDITED_MARK : "", reactionsText(line.reactions)].filter(
    (mark) => mark !== "",
  );
  return marks.length === 0 ? text : `${text} ${marks.join(" ")}`;
}

/**
 * Prints each item as a line; your own messages are not echoed (you typed
 * them). Connection changes are lines too: "-- reconnecting in 2 s (attempt
 * 3)", then "-- reconnected".
 */
export function createLineView(output: Writable, input?: AsyncIterator<string>): ChatView {
  let reconnecting = false;
  let labels = new Map<string, string>();
  let showIds = false;
  // Styles only for a person at a terminal; a pipe gets the text as typed.
  const ansi = (output as { isTTY?: boolean }).isTTY === true;
  return {
    // Every room's messages are printed as they come: all of them are seen.
    showsEveryRoom: true,
    // Like styles, the bell is for a person at a terminal; every line is read
    // as it is printed, so there is no unread count for a title.
    terminal: ansi ? { bell: () => output.write(BEL) } : undefined,
    setShowIds(show) {
      showIds = show;
    },
    setRooms(rooms) {
      labels = new Map(rooms.map((r) => [r.room, r.label]));
    },
    /**
     * The next input line. On a terminal, what the terminal echoes is
     * written in the "concealed" attribute, so the password is not shown.
     */
    async askSecret(prompt) {
      if (!input) return undefined;
      const terminal = (output as { isTTY?: boolean }).isTTY === true;
      output.write(terminal ? `${prompt}${CONCEAL}` : `${prompt}\n`);
      const line = await input.next();
      if (terminal) output.write(REVEAL);
      return line.done ? undefined : line.value;
    },
    show(item) {
      const room = itemRoom(item);
      const label = labels.size > 1 && room !== undefined ? (labels.get(room) ?? room) : undefined;
      const line = formatLine(item, label, { ansi, showIds });
      if (line !== undefined) output.write(`${line}\n`);
    },
    setState(state) {
      if (state.kind === "reconnecting") {
        if (!reconnecting) output.write(`-- connection lost: ${inert(state.reason)}\n`);
        reconnecting = true;
        output.write(`-- ${describeState(state)}\n`);
      } else if (state.kind === "live" && reconnecting) {
        reconnecting = false;
        output.write("-- reconnected\n");
      } else if (state.kind === "offline") {
        output.write(`-- ${inert(describeState(state))}\n`);
      }
    },
  };
}

/**
 * Runs the client on plain lines: each input line is a message or a command,
 * handled in order. Resolves with the exit code: 0 when input ends or the
 * user quits, 1 when the chat goes offline for good (retrying cannot fix it).
 * A lost connection is retried meanwhile; what is typed waits for it.
 */
export async function runLineMode(
  makeController: (view: ChatView) => ChatController,
  input: AsyncIterator<string>,
  output: Writable,
): Promise<number> {
  const controller = makeController(createLineView(output, input));
  const { ended } = await controller.start();
  let quitting = false;
  let connectionLost = false;
  const lost = ended.then(() => {
    connectionLost = !quitting;
  });
  const stop = lost.then((): IteratorResult<string> => ({ done: true, value: undefined }));
  for (;;) {
    const line = await Promise.race([input.next(), stop]);
    if (line.done) break;
    const keepGoing = await Promise.race([controller.input(line.value), lost.then(() => false)]);
    if (!keepGoing) break;
  }
  quitting = true;
  await controller.quit();
  return connectionLost ? 1 : 0;
}
