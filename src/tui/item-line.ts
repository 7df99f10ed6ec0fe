import { Box, Text } from "ink";
import { createElement as h, type ReactNode } from "react";
import type { ChatLine } from "../client/chat-client.ts";
import type { DisplayItem, Quote } from "./chat-view.ts";
import { colourFor, formatTime, inert } from "./format.ts";
import { markupRows, type Span } from "./markup-spans.ts";
import {
  BOT_MARK,
  DELETED_TEXT,
  describeChange,
  EDITED_MARK,
  quoteText,
  reactionsText,
} from "./message-text.ts";

// Yoga shrinks boxes that do not fit and ink then draws their text over the
// next box: items keep their full height (the pane cuts off the oldest) and
// the time keeps its full width.
const RIGID = { flexShrink: 0 } as const;

/** One item of the scrollback. Every text from elsewhere goes through inert(). */
export function ItemLine({ item, showIds = false }: { item: DisplayItem; showIds?: boolean }) {
  switch (item.kind) {
    case "message":
      return h(MessageLine, {
        line: item.line,
        pending: false,
        mention: item.mention === true,
        quote: item.quote,
        showIds,
      });
    case "sent":
      return h(MessageLine, { line: item.line, pending: item.pending, quote: item.quote, showIds });
    case "change":
      return h(
        Box,
        RIGID,
        h(Box, RIGID, h(Text, { dimColor: true }, `${formatTime(item.entry.timeMs)} `)),
        h(Text, { dimColor: true, italic: true }, describeChange(item.entry)),
      );
    case "quote":
      return null;
    case "info":
      return h(Box, RIGID, h(Text, { dimColor: true }, `-- ${inert(item.text)}`));
    case "error":
      return h(Box, RIGID, h(Text, { color: "red" }, `error: ${inert(item.text)}`));
  }
}

/** The "new" divider: what is below it arrived since you last read this room. */
export function UnreadDivider() {
  return h(Box, RIGID, h(Text, { color: "red", bold: true }, "── new ──"));
}

/** A message's Markdown as ink Text: bold, italic, code dimmed, links underlined. */
function markupText(text: string): ReactNode[] {
  return markupRows(text).flatMap((row, index) => [
    ...(index > 0 ? ["\n"] : []),
    ...row.map((span: Span, i) =>
      h(
        Text,
        {
          key: `${index}-${i}`,
          bold: span.bold === true,
          italic: span.italic === true,
          dimColor: span.dim === true,
          underline: span.underline === true,
        },
        span.text,
      ),
    ),
  ]);
}

/**
 * A pending line is one of ours the server has not stored yet (offline,
 * say); a mention names the user, and stands out. A reply shows what it
 * answers above it.
 */
function MessageLine({
  line,
  pending,
  mention = false,
  quote,
  showIds,
}: {
  line: ChatLine;
  pending: boolean;
  mention?: boolean;
  quote: Quote | undefined;
  showIds: boolean;
}) {
  const reply = quoteText(line, quote);
  const number = showIds && line.id > 0 ? h(Text, { dimColor: true }, `#${line.id} `) : null;
  const reactions = reactionsText(line.reactions);
  const body = line.deleted
    ? h(Text, { dimColor: true, italic: true }, DELETED_TEXT)
    : h(Text, mention ? { color: "yellow", bold: true } : {}, ...markupText(line.text));
  // The time in its own column, so wrapped text lines up after it.
  const row = h(
    Box,
    RIGID,
    h(Box, RIGID, h(Text, { dimColor: true }, `${formatTime(line.timeMs)} `)),
    line.system
      ? h(Text, { dimColor: true, italic: true }, `* ${inert(line.text)}`)
      : h(
          Text,
          null,
          number,
          h(Text, { color: colourFor(line.username), bold: true }, inert(line.username)),
          line.bot ? h(Text, { dimColor: true }, ` ${BOT_MARK}`) : null,
          ": ",
          body,
          line.editedAtMs && !line.deleted ? h(Text, { dimColor: true }, ` ${EDITED_MARK}`) : null,
          reactions === "" ? null : ` ${reactions}`,
          pending ? h(Text, { dimColor: true }, " (sending…)") : null,
        ),
  );
  if (reply === undefined) return row;
  return h(
    Box,
    { ...RIGID, flexDirection: "column" },
    h(Text, { dimColor: true, wrap: "truncate-end" }, `  ${reply}`),
    row,
  );
}
