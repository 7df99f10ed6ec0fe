import { plainSnippet } from "../../../src/client/markup.ts";
import type { Message, ReportInfo, Sanction } from "../../../src/gen/chat_pb.js";
import type { ChatModel } from "../model/chat-model.ts";
import { ModerationKind, untilText } from "../model/moderation.ts";
import { lift, listBans, listReports, resolveReport } from "../model/room-admin.ts";
import { busy, button, resultLine } from "./dialog.ts";
import { clockTime, el } from "./dom.ts";

/** A part of the room settings: drawn once, brought up to date on every change. */
export interface Section {
  readonly element: HTMLElement;
  update(): void;
}

const SNIPPET_CHARS = 200;

/** "alice: what she wrote" for a report's message or the ones before it. */
function messageLine(message: Message | undefined, className: string): HTMLElement {
  const line = el("li", className);
  if (message === undefined) {
    line.textContent = "(the message is gone)";
    return line;
  }
  line.append(el("span", "who", message.username || message.userId));
  const text = message.deleted ? "message deleted" : plainSnippet(message.text, SNIPPET_CHARS);
  line.append(` ${text}`);
  line.title = new Date(Number(message.serverTimeMs)).toLocaleString();
  return line;
}

/**
 * The room's open reports (staff only), each with its message after the ones
 * before it, and Resolve with what was done. Reloaded when a report arrives.
 */
export function reportsSection(model: ChatModel, room: string): Section {
  const element = el("section", "settings-section reports");
  const heading = el("h3", "", "Reports");
  heading.id = "reports-heading";
  const list = el("ul", "report-list");
  list.setAttribute("aria-labelledby", heading.id);
  const result = resultLine();
  element.append(heading, list, result.element);
  /** The ids drawn, to see when the open set has changed under us. */
  let drawn: string | undefined;
  let loading = false;

  const item = (report: ReportInfo): HTMLElement => {
    const id = Number(report.id);
    const li = el("li", "report");
    li.dataset.report = String(id);
    const reporter = report.reporter?.username || "Someone";
    const author = report.message?.username || "someone";
    const when = clockTime(Number(report.atMs));
    li.append(el("p", "report-meta", `${reporter} reported ${author}'s message at ${when}:`));
    li.append(el("blockquote", "report-reason", report.reason));
    const context = el("ol", "report-context");
    context.setAttribute("aria-label", "The message in context");
    for (const message of report.context) context.append(messageLine(message, "context-line"));
    context.append(messageLine(report.message, "reported"));
    const form = el("form", "row");
    const resolution = el("input");
    resolution.autocomplete = "off";
    resolution.placeholder = "What was done (optional)";
    resolution.setAttribute("aria-label", `What was done about ${reporter}'s report`);
    const resolve = el("button", "", "Resolve");
    resolve.type = "submit";
    resolve.setAttribute("aria-label", `Resolve ${reporter}'s report of ${author}'s message`);
    form.append(resolution, resolve);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void busy(resolve, () =>
        resolveReport(model, room, id, resolution.value.trim()).then(
          () => {
            li.remove();
            result.ok(`Resolved ${reporter}'s report.`);
            draw();
          },
          (error: unknown) => result.fail(error),
        ),
      );
    });
    li.append(context, form);
    return li;
  };

  const draw = () => {
    drawn = [...model.moderation.of(room).openReports].sort().join();
    if (list.childElementCount === 0) list.append(el("li", "hint empty", "No open reports."));
  };

  const load = () => {
    loading = true;
    listReports(model, room).then(
      (reports) => {
        loading = false;
        list.replaceChildren(...reports.map(item));
        draw();
      },
      (error: unknown) => {
        loading = false;
        result.fail(error);
      },
    );
  };

  return {
    element,
    update() {
      element.hidden = !model.moderation.canModerate(room);
      if (element.hidden || loading) return;
      const open = [...model.moderation.of(room).openReports].sort().join();
      if (open === drawn) return;
      // Set before loading, so a failed load is not asked again on every redraw.
      drawn = open;
      load();
    },
  };
}

/** The bans and mutes in force (staff only), each with Unban or Unmute. */
export function bansSection(model: ChatModel, room: string): Section {
  const element = el("section", "settings-section bans");
  element.append(el("h3", "", "Bans and mutes"));
  const list = el("ul", "ban-list");
  const result = resultLine();
  element.append(list, result.element);
  let loaded = false;

  const item = (sanction: Sanction): HTMLElement => {
    const name = sanction.user?.username || sanction.user?.userId || "?";
    const banned = sanction.kind === ModerationKind.BAN;
    const by = sanction.by?.username ? ` by ${sanction.by.username}` : "";
    const reason = sanction.reason ? `: ${sanction.reason}` : "";
    const until = untilText(Number(sanction.untilMs));
    const li = el("li", "", `${name}: ${banned ? "banned" : "muted"} ${until}${by}${reason} `);
    const verb = banned ? "Unban" : "Unmute";
    const undo = button(verb, "", `${verb} ${name}`);
    undo.addEventListener("click", () => {
      const target = { userId: sanction.user?.userId ?? "", name };
      void busy(undo, () =>
        lift(model, room, target, banned ? "unban" : "unmute").then(
          () => {
            result.ok(`${name} is ${banned ? "no longer banned" : "no longer muted"}.`);
            load();
          },
          (error: unknown) => result.fail(error),
        ),
      );
    });
    li.append(undo);
    return li;
  };

  const load = () => {
    loaded = true;
    listBans(model, room).then(
      (bans) => {
        const items = bans.map(item);
        if (items.length === 0) items.push(el("li", "hint", "Nobody is banned or muted."));
        list.replaceChildren(...items);
      },
      (error: unknown) => result.fail(error),
    );
  };

  return {
    element,
    update() {
      element.hidden = !model.moderation.canModerate(room);
      if (!element.hidden && !loaded) load();
    },
  };
}
