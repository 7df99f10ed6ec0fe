import {
  type BotView,
  createBot,
  listBots,
  type NewBot,
  renewBotToken,
  revokeBot,
  type TriggerName,
} from "../model/account.ts";
import type { ChatModel } from "../model/chat-model.ts";
import { busy, button, labelled, resultLine } from "./dialog.ts";
import { el } from "./dom.ts";

type Result = ReturnType<typeof resultLine>;

/**
 * The account's bots: make one (its token, and the signing secret of an
 * outgoing hook, are shown once, to copy into the bot's configuration), see
 * each one's rooms and delivery state, revoke one or give it a new token.
 */
export function botsSection(model: ChatModel): HTMLElement {
  const element = el("section", "settings-section bots");
  element.append(
    el("h3", "", "Bots"),
    el(
      "p",
      "hint",
      "A bot posts (and, if it may, reads) in the rooms you name, with a token of its own. Give it an outgoing URL and the server POSTs the rooms' messages there.",
    ),
  );
  const result = resultLine();
  const shown = shownOnce(result);
  const list = el("ul", "bot-list");
  list.setAttribute("aria-label", "Your bots");

  const reload = () => listBots(model).then(draw, (error: unknown) => result.fail(error));
  const draw = (bots: readonly BotView[]) => {
    if (bots.length === 0) {
      list.replaceChildren(el("li", "hint", "No bots yet."));
      return;
    }
    list.replaceChildren(
      ...bots.map((bot) =>
        botItem(bot, {
          revoke: (control) =>
            busy(control, () =>
              revokeBot(model, bot.name).then(
                () => {
                  shown.hide();
                  result.ok(`${bot.name} revoked: its token no longer works.`);
                  return reload();
                },
                (error: unknown) => result.fail(error),
              ),
            ),
          renew: (control) =>
            busy(control, () =>
              renewBotToken(model, bot.name).then(
                (token) => {
                  shown.show(bot.name, token, "");
                  return reload();
                },
                (error: unknown) => result.fail(error),
              ),
            ),
        }),
      ),
    );
  };

  const form = createForm(async (values, submit) => {
    let made = false;
    await busy(submit, () =>
      createBot(model, values).then(
        ({ bot, token, signingSecret }) => {
          made = true;
          shown.show(bot.name, token, signingSecret);
          return reload();
        },
        (error: unknown) => result.fail(error),
      ),
    );
    return made;
  });
  element.append(form, shown.element, result.element, el("h3", "", "Your bots"), list);
  void reload();
  return element;
}

function createForm(
  submitted: (values: NewBot, submit: HTMLButtonElement) => Promise<boolean>,
): HTMLFormElement {
  const form = el("form", "bot-form");
  form.noValidate = true;
  const name = el("input");
  name.autocomplete = "off";
  name.maxLength = 64;
  name.placeholder = "deploybot";
  const rooms = el("input");
  rooms.autocomplete = "off";
  rooms.placeholder = "builds, ops";
  const read = el("input");
  read.type = "checkbox";
  read.id = "bot-read";
  const readLabel = el("label", "", "May read its rooms");
  readLabel.htmlFor = read.id;
  const readHint = el("span", "hint", "Without it the bot only posts.");
  const readRow = el("div", "check");
  readRow.append(read, readLabel, readHint);
  const url = el("input");
  url.type = "url";
  url.autocomplete = "off";
  url.placeholder = "https://example.com/hook";
  const trigger = el("select");
  for (const [value, text] of [
    ["mentions", "Mentions of the bot"],
    ["all", "Every message"],
    ["words", "Trigger words"],
  ] as const) {
    trigger.append(Object.assign(el("option", "", text), { value }));
  }
  const words = el("input");
  words.autocomplete = "off";
  words.placeholder = "deploy, rollback";
  const wordsField = labelled("Trigger words (comma-separated)", words, "bot-words");
  const submit = el("button", "", "Create bot");
  submit.type = "submit";

  const first = el("div", "row");
  first.append(
    labelled("Bot name", name, "bot-name"),
    labelled("Rooms (comma-separated)", rooms, "bot-rooms"),
  );
  const second = el("div", "row");
  second.append(
    labelled("Outgoing URL (optional)", url, "bot-url"),
    labelled("What it is sent", trigger, "bot-trigger"),
    wordsField,
  );
  const sync = () => {
    // A trigger only matters once there is somewhere to POST to.
    trigger.disabled = url.value.trim() === "";
    wordsField.hidden = trigger.disabled || trigger.value !== "words";
  };
  url.addEventListener("input", sync);
  trigger.addEventListener("change", sync);
  sync();
  form.append(first, readRow, second, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitted(
      {
        name: name.value,
        rooms: rooms.value,
        read: read.checked,
        outgoingUrl: url.value,
        trigger: trigger.value as TriggerName,
        triggerWords: words.value,
      },
      submit,
    ).then((made) => {
      if (made) name.value = "";
    });
  });
  return form;
}

/** The token (and signing secret) just made, each with Copy; gone once the dialog closes. */
function shownOnce(result: Result) {
  const element = el("div", "shown-once");
  element.hidden = true;
  const token = secretField("Token", "bot-token", result);
  const secret = secretField("Signing secret", "bot-secret", result);
  const note = el("p", "hint");
  element.append(note, token.row, secret.row);
  return {
    element,
    show(bot: string, tokenValue: string, secretValue: string) {
      token.input.value = tokenValue;
      secret.input.value = secretValue;
      secret.row.hidden = secretValue === "";
      note.textContent =
        secretValue === ""
          ? `${bot}'s token is shown only now: copy it into the bot. Send it as "authorization: Bearer <token>".`
          : `${bot}'s token and signing secret are shown only now: copy them. The secret signs what the server POSTs (X-Chat-Signature).`;
      element.hidden = false;
      result.ok("");
      token.input.focus();
      token.input.select();
    },
    hide() {
      element.hidden = true;
      token.input.value = "";
      secret.input.value = "";
    },
  };
}

function secretField(label: string, id: string, result: Result) {
  const input = el("input");
  input.readOnly = true;
  input.spellcheck = false;
  const copy = button("Copy", "", `Copy the ${label.toLowerCase()}`);
  copy.addEventListener("click", () => {
    navigator.clipboard.writeText(input.value).then(
      () => result.ok(`${label} copied.`),
      () => {
        // The clipboard is refused (no permission, not a secure page): the text is selected instead.
        input.focus();
        input.select();
        result.ok("Copy it from the box (Ctrl+C).");
      },
    );
  });
  const row = el("div", "row");
  row.append(labelled(`${label} (shown only now)`, input, id), copy);
  return { row, input };
}

function botItem(
  bot: BotView,
  act: {
    revoke(control: HTMLButtonElement): Promise<void>;
    renew(control: HTMLButtonElement): Promise<void>;
  },
): HTMLLIElement {
  const item = el("li", bot.revoked ? "bot-item revoked" : "bot-item");
  item.dataset.bot = bot.name;
  const head = el("p", "bot-head");
  head.append(el("strong", "", bot.name), ` ${bot.revoked ? "revoked" : "working"}`);
  const facts = [
    `${bot.read ? "Reads and posts" : "Posts only"} in ${bot.rooms.map((r) => `#${r}`).join(", ")}`,
  ];
  if (bot.outgoingUrl !== "") {
    const on =
      bot.trigger === "all"
        ? "every message"
        : bot.trigger === "words"
          ? `messages with ${bot.triggerWords.join(", ")}`
          : "mentions of it";
    facts.push(`POSTs ${on} to ${bot.outgoingUrl}`);
    facts.push(`${bot.delivered} delivered, ${bot.failed} failed`);
  }
  item.append(head, ...facts.map((fact) => el("p", "bot-fact", fact)));
  if (bot.lastError !== "") {
    const when = bot.lastErrorAtMs > 0 ? ` (${new Date(bot.lastErrorAtMs).toLocaleString()})` : "";
    item.append(el("p", "bot-error", `Last error${when}: ${bot.lastError}`));
  }
  const buttons = el("div", "row");
  const renew = button("New token", "", `New token for ${bot.name}`);
  renew.title = bot.revoked ? "Bring the bot back with a new token" : "The old token stops at once";
  renew.addEventListener("click", () => void act.renew(renew));
  buttons.append(renew);
  if (!bot.revoked) {
    const revoke = button("Revoke", "danger", `Revoke the bot ${bot.name}`);
    revoke.addEventListener("click", () => void act.revoke(revoke));
    buttons.append(revoke);
  }
  item.append(buttons);
  return item;
}
