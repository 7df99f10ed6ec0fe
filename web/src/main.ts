import { type Credential, makeClient } from "./api.ts";
import { ChatModel } from "./model/chat-model.ts";
import { ServerInfoSource } from "./server-info.ts";
import * as storage from "./storage.ts";
import { ChatView } from "./view/chat-view.ts";
import { byId } from "./view/dom.ts";
import { SignInView } from "./view/signin.ts";

/** The page's life: signed out (the form) or signed in (one model and its view). */

let credential: Credential | undefined;
let chat: { model: ChatModel; view: ChatView } | undefined;

const client = makeClient(() => credential);
const serverInfo = new ServerInfoSource(client);
const signIn = new SignInView(serverInfo, client, (session) => enter(session, storage.load()));

function enter(session: storage.Session, saved: storage.Saved): void {
  credential =
    session.kind === "guest"
      ? { kind: "guest", secret: session.secret }
      : { kind: "account", token: session.token };
  storage.save({ ...saved, session });
  signIn.hide();
  const model = new ChatModel(client, serverInfo, session, saved, {
    signedOut: (reason) => leave(reason),
    save: (state) => storage.save(state),
  });
  const view = new ChatView(model);
  chat = { model, view };
  model.start();
  view.focus();
  takeInvite();
}

/**
 * An invite link (#invite=<code>) is used once signed in: redeemed, its room
 * joined, and the code taken out of the address so a reload does not use it
 * again. Signed out, it waits in the address for the sign-in.
 */
function takeInvite(): void {
  const match = /^#invite=(.+)$/.exec(location.hash);
  if (chat === undefined || match?.[1] === undefined) return;
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  let code = match[1];
  try {
    code = decodeURIComponent(code);
  } catch {
    // Not percent-encoded after all: the server judges the code as it is.
  }
  chat.model.moderation.redeemLater(code);
}

window.addEventListener("hashchange", takeInvite);

/** Back to the form; the session, its rooms and unsent messages are forgotten. */
function leave(reason: string): void {
  const name = chat?.model.me.name ?? "";
  chat?.model.stop();
  chat?.view.detach();
  chat = undefined;
  credential = undefined;
  storage.forget();
  signIn.show(reason, name);
}

byId("signout").addEventListener("click", () => {
  const session = chat?.model.session;
  if (session?.kind === "account") {
    // Named here: the credential is gone before the call goes out. The page forgets it either way.
    const headers = { authorization: `Bearer ${session.token}` };
    void client.logout({}, { headers, timeoutMs: 5_000 }).catch(() => {});
  }
  leave("");
});

const saved = storage.load();
if (saved.session) enter(saved.session, saved);
else signIn.show("");
