import { Box, Text, useInput, useStdout } from "ink";
import {
  createElement as h,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { type ConnectionState, itemRoom, type RoomTab } from "./chat-controller.ts";
import type { ChatLog, LoggedItem } from "./chat-log.ts";
import { describeState, inert } from "./format.ts";
import { ItemLine, UnreadDivider } from "./item-line.ts";
import { editLine } from "./line-editor.ts";
import { typingText } from "./typing.ts";

export interface ChatScreenProps {
  readonly log: ChatLog;
  readonly server: string;
  readonly username: string;
  readonly onSubmit: (line: string) => void;
  readonly onQuit: () => void;
  /** Page Up at the top of the scrollback: load older messages. */
  readonly onLoadOlder: () => void;
  /** Alt+1..9: show the open room at that position. */
  readonly onSwitch: (position: number) => void;
  /** Ctrl+N / Ctrl+P: show the next or previous open room. */
  readonly onCycle: (steps: number) => void;
  /** The input line changed (to say we are typing, or have stopped). */
  readonly onDraft?: (draft: string) => void;
  /** Up on an empty input line: the line that edits our last message here, if any. */
  readonly onRecall?: () => string | undefined;
}

// A badge reads in light and dark terminal themes alike.
const STATE_BADGE: Record<ConnectionState["kind"], { color: string; backgroundColor: string }> = {
  connecting: { color: "black", backgroundColor: "yellow" },
  live: { color: "black", backgroundColor: "green" },
  reconnecting: { color: "black", backgroundColor: "yellow" },
  offline: { color: "white", backgroundColor: "red" },
};

function useTerminalRows(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = useState(stdout.rows || 24);
  useEffect(() => {
    const resized = () => setRows(stdout.rows || 24);
    stdout.on("resize", resized);
    return () => {
      stdout.off("resize", resized);
    };
  }, [stdout]);
  return rows;
}

/**
 * The whole screen: messages, a status line, the input line. One row short
 * of the terminal: once ink's output fills it, ink clears the terminal on
 * every change, the user's scrollback included.
 */
export function ChatScreen({
  log,
  server,
  username,
  onSubmit,
  onQuit,
  onLoadOlder,
  onSwitch,
  onCycle,
  onDraft,
  onRecall,
}: ChatScreenProps) {
  const snapshot = useSyncExternalStore(log.subscribe, log.snapshot);
  const { state, secretPrompt, rooms, current } = snapshot;
  // The shown room's items, and those about the whole chat.
  const items = useMemo(
    () =>
      snapshot.items.filter((i) => {
        const room = itemRoom(i.item);
        return room === undefined || room === current;
      }),
    [snapshot.items, current],
  );
  const rows = useTerminalRows();
  const paneHeight = Math.max(1, rows - 4);
  const [text, setText] = useState("");
  // Several keys can arrive in one batch, before React re-renders with new state.
  const draft = useRef("");
  // The seq of the newest item shown while scrolled back; undefined follows new messages.
  // Scrolled back in one room; another room is shown at its newest.
  const [anchorAt, setAnchorAt] = useState<{ room: string; seq: number } | undefined>(undefined);
  const anchor = anchorAt?.room === current ? anchorAt.seq : undefined;
  const setAnchor = (seq: number | undefined) =>
    setAnchorAt(seq === undefined ? undefined : { room: current, seq });
  const first = items[0]?.seq ?? 0;
  // Scrolled to the top, the pane is still full: the oldest items fill it.
  const minEnd = Math.min(items.length, paneHeight);
  const end =
    anchor === undefined
      ? items.length
      : Math.max(minEnd, Math.min(items.length, anchor - first + 1));
  const scrollTo = (newEnd: number) =>
    setAnchor(newEnd >= items.length ? undefined : items[Math.max(minEnd, newEnd) - 1]?.seq);

  useInput((input, key) => {
    if (key.meta && /^[1-9]$/.test(input)) return onSwitch(Number(input));
    if (key.ctrl && (input === "n" || input === "p")) return onCycle(input === "n" ? 1 : -1);
    // Half a page of items: long items take several rows, so a whole page could skip some.
    const page = Math.max(1, Math.floor(paneHeight / 2));
    if (key.pageUp) {
      // At the top already: what is above comes from the server.
      if (end - paneHeight <= 0) onLoadOlder();
      return scrollTo(end - page);
    }
    if (key.pageDown) return scrollTo(end + page);
    if (secretPrompt !== undefined && key.escape) {
      draft.current = "";
      setText("");
      return log.answerSecret(undefined);
    }
    if (key.upArrow && draft.current === "" && secretPrompt === undefined) {
      const recalled = onRecall?.();
      if (recalled !== undefined) {
        draft.current = recalled;
        setText(recalled);
      }
      return;
    }
    const edit = editLine(draft.current, input, key);
    const changed = edit.text !== draft.current || edit.submitted.length > 0;
    draft.current = edit.text;
    setText(edit.text);
    if (changed && secretPrompt === undefined) onDraft?.(edit.text);
    if (edit.submitted.length > 0) setAnchor(undefined);
    const [secret, ...rest] = edit.submitted;
    // A password answers the prompt; it is never a message or a command.
    if (secretPrompt !== undefined && secret !== undefined) log.answerSecret(secret);
    for (const line of secretPrompt !== undefined ? rest : edit.submitted) onSubmit(line);
    if (edit.quit) onQuit();
  });

  return h(
    Box,
    { flexDirection: "column", height: rows - 1 },
    h(MessagePane, {
      items: items.slice(Math.max(0, end - paneHeight), end),
      height: paneHeight,
      showIds: snapshot.showIds,
      dividerAfter: snapshot.dividers.get(current),
    }),
    h(RoomBar, { rooms, current }),
    h(StatusLine, {
      server,
      username: snapshot.username || username,
      state,
      newer: items.length - end,
      typing: typingText(snapshot.typing.get(current) ?? []),
    }),
    secretPrompt === undefined
      ? h(InputLine, { prompt: "> ", text })
      : h(InputLine, { prompt: inert(secretPrompt), text: "•".repeat([...text].length) }),
  );
}

/**
 * Each item takes at least one row, so `items` never needs more than `height`
 * of them. The "new" divider goes above the first message after the read
 * marker the room had when it was shown.
 */
function MessagePane({
  items,
  height,
  showIds,
  dividerAfter,
}: {
  items: readonly LoggedItem[];
  height: number;
  showIds: boolean;
  dividerAfter: number | undefined;
}) {
  const firstNew =
    dividerAfter === undefined
      ? undefined
      : items.find(({ item }) =>
          (item.kind === "message" && !item.line.system) || item.kind === "sent"
            ? item.line.id > dividerAfter
            : false,
        )?.seq;
  // flex-end with hidden overflow: long items that do not fit are cut at the top.
  return h(
    Box,
    { flexDirection: "column", justifyContent: "flex-end", overflow: "hidden", height },
    items.flatMap(({ seq, item }) => [
      ...(seq === firstNew ? [h(UnreadDivider, { key: "divider" })] : []),
      h(ItemLine, { key: seq, item, showIds }),
    ]),
  );
}

/** The open rooms, always in view: number, name, unread count, "!" for mentions of you. */
function RoomBar({ rooms, current }: { rooms: readonly RoomTab[]; current: string }) {
  return h(
    Box,
    null,
    h(
      Text,
      { wrap: "truncate-end" },
      ...rooms.flatMap((tab, index) => {
        const count = tab.unread > 0 ? `(${tab.unread}${tab.mentions > 0 ? "!" : ""})` : "";
        const text = ` ${index + 1}:${inert(tab.label)}${count} `;
        const style =
          tab.room === current
            ? { inverse: true, bold: true }
            : tab.mentions > 0
              ? { color: "yellow", bold: true }
              : tab.unread > 0
                ? { bold: true }
                : { dimColor: true };
        return [h(Text, { key: tab.room, ...style }, text)];
      }),
    ),
  );
}

function StatusLine(props: {
  server: string;
  username: string;
  state: ConnectionState;
  newer: number;
  /** "bob is typing…", or "". */
  typing: string;
}) {
  const hint =
    props.typing !== ""
      ? inert(props.typing)
      : props.newer > 0
        ? `${props.newer} newer below · PgDn`
        : "PgUp/PgDn scroll · /help · Ctrl+C quit";
  return h(
    Box,
    { justifyContent: "space-between", backgroundColor: "blue" },
    h(
      Text,
      { color: "white", wrap: "truncate-end" },
      h(
        Text,
        { ...STATE_BADGE[props.state.kind], bold: true },
        ` ${inert(describeState(props.state))} `,
      ),
      ` ${inert(props.username)} @ ${inert(props.server)}`,
    ),
    h(Text, { color: "white", wrap: "truncate-start" }, ` ${hint} `),
  );
}

function InputLine({ prompt, text }: { prompt: string; text: string }) {
  // A drawn block cursor: ink hides the terminal's own.
  return h(
    Box,
    null,
    h(Box, { flexShrink: 0 }, h(Text, { bold: true }, prompt)),
    h(Text, { wrap: "truncate-start" }, text, h(Text, { inverse: true }, " ")),
  );
}
