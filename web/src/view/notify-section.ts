import type { ChatModel } from "../model/chat-model.ts";
import type { Level } from "../model/notify-levels.ts";
import { resultLine } from "./dialog.ts";
import { el } from "./dom.ts";
import type { Section } from "./room-reports.ts";

const CHOICES: readonly { level: Level; label: string; hint: string }[] = [
  { level: "all", label: "All messages", hint: "Every message here counts and notifies." },
  {
    level: "mentions",
    label: "Mentions",
    hint: "Only messages that name you (@you). The default.",
  },
  { level: "off", label: "Off", hint: "Nothing here counts in the tab or notifies." },
];

const SAID: Record<Level, string> = {
  all: "every message",
  mentions: "mentions only",
  off: "nothing",
};

/**
 * Room settings' notification level, for everyone in the room: kept on the
 * server, so the user's other browsers, the terminal and the emails follow it.
 */
export function notifySection(model: ChatModel, room: string): Section {
  const element = el("fieldset", "settings-section notify-level");
  element.append(el("legend", "", "Notifications"));
  const result = resultLine();
  /** A choice asked for and not yet answered: a redraw meanwhile shows it, not the old one. */
  let pending: Level | undefined;
  const inputs = CHOICES.map(({ level, label, hint }) => {
    const input = el("input");
    input.type = "radio";
    input.name = "notify-level";
    input.value = level;
    input.id = `notify-${level}`;
    const text = el("label", "", label);
    text.htmlFor = input.id;
    const help = el("span", "hint", hint);
    help.id = `${input.id}-hint`;
    input.setAttribute("aria-describedby", help.id);
    const row = el("div", "check");
    row.append(input, text, help);
    element.append(row);
    input.addEventListener("change", () => {
      if (!input.checked) return;
      pending = level;
      section.update();
      model.notify
        .set(room, level)
        .then(
          (now) => result.ok(`Notifications here: ${SAID[now]}.`),
          (error: unknown) => result.fail(error),
        )
        .finally(() => {
          pending = undefined;
          section.update();
        });
    });
    return input;
  });
  element.append(result.element);
  const section: Section = {
    element,
    update() {
      const level = pending ?? model.notify.of(room);
      for (const input of inputs) {
        input.checked = input.value === level;
        input.disabled = pending !== undefined;
      }
    },
  };
  return section;
}
