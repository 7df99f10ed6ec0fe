import { Box, Text } from "ink";
import { createElement as h } from "react";
import type { ChatLine } from "../client/chat-client.ts";
import type { DisplayItem } from "./chat-controller.ts";
import { colourFor, formatTime, inert } from "./format.ts";

// Yoga shrinks boxes that do not fit and ink then draws their text over the
// next box: items keep their full height (the pane cuts off the oldest) and
// the time keeps its full width.
const RIGID = { flexShrink: 0 } as const;

/** One item of the scrollback. Every text from elsewhere goes through inert(). */
export function ItemLine({ item }: { item: DisplayItem }) {
  switch (item.kind) {
    case "message":
      return h(MessageLine, { line: item.line, pending: false, mention: item.mention === true });
    case "sent":
      return h(MessageLine, { line: item.line, pending: item.pending });
    case "info":
      return h(Box, RIGID, h(Text, { dimColor: true }, `-- ${inert(item.text)}`));
    case "error":
      return h(Box, RIGID, h(Text, { color: "red" }, `error: ${inert(item.text)}`));
  }
}

/**
 * A pending line is one of ours the server has not stored yet (offline,
 * say); a mention names the user, and stands out.
 */
function MessageLine({
  line,
  pending,
  mention = false,
}: {
  line: ChatLine;
  pending: boolean;
  mention?: boolean;
}) {
  const text = inert(line.text);
  // The time in its own column, so wrapped text lines up after it.
  return h(
    Box,
    RIGID,
    h(Box, RIGID, h(Text, { dimColor: true }, `${formatTime(line.timeMs)} `)),
    line.system
      ? h(Text, { dimColor: true, italic: true }, `* ${text}`)
      : h(
          Text,
          null,
          h(Text, { color: colourFor(line.username), bold: true }, inert(line.username)),
          mention ? h(Text, { color: "yellow", bold: true }, `: ${text}`) : `: ${text}`,
          pending ? h(Text, { dimColor: true }, " (sending…)") : null,
        ),
  );
}
