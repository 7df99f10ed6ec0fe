import { plainSnippet } from "../../../src/client/markup.ts";
import type { Line, Reaction } from "../model/lines.ts";
import { clockTime, el } from "./dom.ts";
import { renderMarkup } from "./markup.ts";

/** How much of an original a reply quotes. */
const QUOTE_CHARS = 80;

export interface MessageActions {
  /** The message's menu button was pressed (or the message long-pressed). */
  menu(line: Line, button: HTMLButtonElement): void;
  /** A reaction chip was pressed: add the user's reaction, or take it back. */
  toggle(line: Line, reaction: Reaction): void;
  /** The quote above a reply was pressed: show the original. */
  original(line: Line): void;
}

export interface LineContext {
  readonly own: boolean;
  readonly mentionsMe: boolean;
  /** For a reply: its original (undefined while not known, null when it is not there). */
  readonly original: Line | null | undefined;
  readonly actions: MessageActions;
}

/** A message as shown: who, when, its text as formatted, reactions, and its menu button. */
export function messageElement(line: Line, context: LineContext): HTMLElement {
  const element = el("div", "message");
  element.dataset.id = String(line.id);
  element.classList.toggle("own", context.own);
  element.classList.toggle("mentions-me", context.mentionsMe);
  element.classList.toggle("deleted", line.deleted);
  if ((line.replyTo ?? 0) > 0) element.append(quoteElement(line, context));
  const meta = header(line.username, timeElement(line.timeMs));
  if (line.bot) {
    const badge = el("span", "bot", "bot");
    badge.title = "Sent by a webhook or a bot, not a person";
    meta.firstElementChild?.after(badge);
  }
  const editedMs = line.editedAtMs ?? 0;
  if (editedMs > 0 && !line.deleted) {
    const edited = el("span", "edited", "(edited)");
    edited.title = `Edited ${new Date(editedMs).toLocaleString()}`;
    meta.append(edited);
  }
  element.append(meta, textElement(line));
  if (line.deleted) return element;
  const reactions = line.reactions ?? [];
  if (reactions.length > 0) element.append(reactionsElement(line, reactions, context.actions));
  const menu = el("button", "actions", "⋯");
  menu.type = "button";
  menu.setAttribute("aria-label", `Actions for ${line.username}'s message`);
  menu.setAttribute("aria-haspopup", "menu");
  menu.setAttribute("aria-expanded", "false");
  menu.title = "Reply, react, edit or delete";
  menu.addEventListener("click", () => context.actions.menu(line, menu));
  element.append(menu);
  return element;
}

/** The text, formatted; a tombstone's says it was deleted. */
export function textElement(line: Line): HTMLElement {
  if (line.deleted) return el("div", "text tombstone", "message deleted");
  const text = el("div", "text");
  text.append(...renderMarkup(line.text));
  return text;
}

export function header(author: string, time: HTMLElement | undefined): HTMLElement {
  const line = el("div", "meta");
  line.append(el("span", "author", author));
  if (time) line.append(time);
  return line;
}

function timeElement(ms: number): HTMLElement {
  const time = el("time", "time", clockTime(ms));
  time.dateTime = new Date(ms).toISOString();
  time.title = new Date(ms).toLocaleString();
  return time;
}

function quoteElement(line: Line, context: LineContext): HTMLElement {
  const { original } = context;
  const button = el("button", "reply-quote");
  button.type = "button";
  let summary: string;
  if (original === undefined) summary = "…";
  else if (original === null) summary = "a message that is not loaded";
  else if (original.deleted) summary = `${original.username}: message deleted`;
  else summary = `${original.username}: ${plainSnippet(original.text, QUOTE_CHARS)}`;
  button.append(el("span", "reply-mark", "↪"), el("span", "reply-summary", summary));
  button.setAttribute("aria-label", `In reply to ${summary}. Show the original.`);
  button.addEventListener("click", () => context.actions.original(line));
  return button;
}

function reactionsElement(
  line: Line,
  reactions: readonly Reaction[],
  actions: MessageActions,
): HTMLElement {
  const box = el("div", "reactions");
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", "Reactions");
  for (const reaction of reactions) {
    const chip = el("button", "chip");
    chip.type = "button";
    chip.append(el("span", "emoji", reaction.emoji), el("span", "count", String(reaction.count)));
    chip.setAttribute("aria-pressed", String(reaction.mine));
    const people = reaction.count === 1 ? "1 person" : `${reaction.count} people`;
    chip.setAttribute(
      "aria-label",
      `${reaction.emoji}: ${people}${reaction.mine ? ", you included" : ""}`,
    );
    chip.title = reaction.mine ? "Take back your reaction" : "React with this too";
    chip.addEventListener("click", () => actions.toggle(line, reaction));
    box.append(chip);
  }
  return box;
}
