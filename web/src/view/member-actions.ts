import { plainSnippet } from "../../../src/client/markup.ts";
import type { ChatModel } from "../model/chat-model.ts";
import type { Line } from "../model/lines.ts";
import { ModerationKind, RoomRole, untilText } from "../model/moderation.ts";
import {
  ban,
  kick,
  lift,
  listBans,
  mute,
  report,
  setRole,
  type Target,
} from "../model/room-admin.ts";
import { busy, button, labelled, openDialog, resultLine } from "./dialog.ts";
import { el } from "./dom.ts";

const HOUR = 3_600_000;

/** How long a ban or mute lasts; 0 is until lifted. */
const DURATIONS: readonly (readonly [string, number])[] = [
  ["1 hour", HOUR],
  ["1 day", 24 * HOUR],
  ["7 days", 7 * 24 * HOUR],
  ["Permanent (until lifted)", 0],
];

/**
 * What a moderator can do to one member of the room shown: kick, ban or
 * mute for a while with a reason, lift a ban or mute in force, and (owners)
 * make them a moderator or take it away. Each result is said in the dialog.
 */
export function openMemberActions(model: ChatModel, target: Target): void {
  const room = model.current;
  const name = target.name || target.userId;
  const dialog = openDialog(`Moderate ${name} in # ${room}`, "member-actions");
  const standing = el("p", "standing", "");
  const reason = el("input");
  reason.autocomplete = "off";
  reason.placeholder = "optional, shown to them";
  const duration = el("select");
  for (const [label, ms] of DURATIONS) {
    duration.append(Object.assign(el("option", "", label), { value: String(ms) }));
  }
  const result = resultLine();
  const actions = el("div", "row actions-row");
  actions.setAttribute("role", "group");
  actions.setAttribute("aria-label", `Actions on ${name}`);
  dialog.body.append(
    standing,
    labelled("Reason", reason, "moderate-reason"),
    labelled("For (ban or mute)", duration, "moderate-duration"),
    actions,
    result.element,
  );

  const lasting = () => Number(duration.value);
  const action = (label: string, run: () => Promise<string>, danger = false) => {
    const control = button(label, danger ? "danger" : "", `${label} ${name}`);
    control.addEventListener("click", () => {
      void busy(control, () =>
        run().then(
          (done) => {
            result.ok(done);
            void refresh();
          },
          (error: unknown) => result.fail(error),
        ),
      );
    });
    actions.append(control);
    return control;
  };
  const why = () => reason.value.trim();
  action("Kick", async () => {
    await kick(model, room, target, why());
    return `${name} was removed from ${room}.`;
  });
  action(
    "Ban",
    async () => `${name} is banned ${untilText(await ban(model, room, target, lasting(), why()))}.`,
    true,
  );
  action(
    "Mute",
    async () => `${name} is muted ${untilText(await mute(model, room, target, lasting(), why()))}.`,
  );
  const unmute = action("Unmute", async () => {
    await lift(model, room, target, "unmute");
    return `${name} can post again.`;
  });
  const unban = action("Unban", async () => {
    await lift(model, room, target, "unban");
    return `${name} may join again.`;
  });
  const holder = () =>
    model.moderation
      .of(room)
      .settings?.staff.find((h) => h.user?.userId === target.userId || h.user?.username === name);
  const promote = action("Make moderator", async () => {
    await setRole(model, room, target, RoomRole.MODERATOR);
    return `${name} is a moderator now.`;
  });
  const demote = action("Remove moderator", async () => {
    await setRole(model, room, target, RoomRole.MEMBER);
    return `${name} is no longer a moderator.`;
  });

  /** What is in force on them now, so only what applies is offered. */
  const refresh = async () => {
    const owner = model.moderation.isOwner(room);
    const role = holder()?.role;
    promote.hidden = !owner || role !== undefined;
    demote.hidden = !owner || role !== RoomRole.MODERATOR;
    let bans: Awaited<ReturnType<typeof listBans>> = [];
    try {
      bans = await listBans(model, room);
    } catch {
      // Not known: both lifts stay offered, and the server says if there is nothing to lift.
      return;
    }
    const theirs = bans.filter(
      (b) => b.user?.userId === target.userId || b.user?.username === name,
    );
    const find = (kind: ModerationKind) => theirs.find((b) => b.kind === kind);
    const banned = find(ModerationKind.BAN);
    const muted = find(ModerationKind.MUTE);
    unban.hidden = banned === undefined;
    unmute.hidden = muted === undefined;
    const parts = [
      banned ? `banned ${untilText(Number(banned.untilMs))}` : "",
      muted ? `muted ${untilText(Number(muted.untilMs))}` : "",
    ].filter((part) => part !== "");
    standing.textContent = parts.length > 0 ? `${name} is ${parts.join(" and ")}.` : "";
  };
  void refresh();
  reason.focus();
}

/** Report on someone else's message: a reason, then Report; the room's log says it went. */
export function openReportDialog(model: ChatModel, line: Line): void {
  const room = model.current;
  const dialog = openDialog(`Report ${line.username}'s message`, "report-dialog");
  const form = el("form", "report-form");
  form.append(el("blockquote", "reported", plainSnippet(line.text, 200)));
  const reason = el("textarea");
  reason.rows = 3;
  reason.maxLength = 500;
  reason.required = true;
  form.append(labelled("What is wrong with it? (moderators read this)", reason, "report-reason"));
  const send = el("button", "", "Report");
  send.type = "submit";
  const cancel = button("Cancel");
  cancel.addEventListener("click", () => dialog.close());
  const row = el("div", "row");
  row.append(send, cancel);
  const result = resultLine();
  form.append(row, result.element);
  dialog.body.append(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(send, () =>
      report(model, room, line.id, reason.value).then(
        () => {
          dialog.close();
          model.notice(
            room,
            `You reported ${line.username}'s message to the moderators of ${room}.`,
          );
        },
        (error: unknown) => result.fail(error),
      ),
    );
  });
  reason.focus();
}
