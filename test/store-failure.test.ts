// A store that fails on purpose (a wrapper around the real SQLite store, as a
// locked database or a full disk would): the server answers UNAVAILABLE,
// leaves no ghost member or presence behind, and the session goes on.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { status } from "@grpc/grpc-js";
import { LiveChat } from "../src/client/live-chat.ts";
import { openSqliteStore } from "../src/store/sqlite-store.ts";
import {
  type AppendResult,
  type NewMessage,
  type Store,
  StoreUnavailableError,
} from "../src/store/store.ts";
import {
  isCaughtUp,
  isPresence,
  isText,
  liveUser,
  nextMatching,
  startTestServer,
  testClient,
  within,
} from "./helpers.ts";
import { SeedClient, streamReader } from "./seed-client.ts";

/** The real store, but every write (messages, changes, read markers) and head read fails while `failing` is set. */
class FlakyStore implements Store {
  failing = false;
  #refused = 0;
  #onRefusal: (() => void) | undefined;
  readonly #inner: Store;

  constructor(inner: Store) {
    this.#inner = inner;
  }

  get epoch() {
    return this.#inner.epoch;
  }

  get idKey() {
    return this.#inner.idKey;
  }

  /** Resolves once `count` more calls have been refused. */
  refusals(count: number): Promise<void> {
    const target = this.#refused + count;
    return new Promise((resolve) => {
      this.#onRefusal = () => {
        if (this.#refused >= target) resolve();
      };
    });
  }

  #check(): void {
    if (this.failing) {
      this.#refused += 1;
      this.#onRefusal?.();
      throw new StoreUnavailableError(
        "The database is locked by another program; nothing was stored.",
      );
    }
  }

  async append(messages: readonly NewMessage[]): Promise<AppendResult[]> {
    this.#check();
    return this.#inner.append(messages);
  }

  async lastId(room: string) {
    this.#check();
    return this.#inner.lastId(room);
  }

  async markRead(...args: Parameters<Store["markRead"]>) {
    this.#check();
    return this.#inner.markRead(...args);
  }

  history: Store["history"] = (...args) => this.#inner.history(...args);
  search: Store["search"] = (...args) => this.#inner.search(...args);
  message: Store["message"] = (...args) => this.#inner.message(...args);
  readMarker: Store["readMarker"] = (...args) => this.#inner.readMarker(...args);
  unread: Store["unread"] = (...args) => this.#inner.unread(...args);
  after: Store["after"] = (...args) => this.#inner.after(...args);
  prune: Store["prune"] = (...args) => this.#inner.prune(...args);
  listRooms: Store["listRooms"] = (...args) => this.#inner.listRooms(...args);
  setTopic: Store["setTopic"] = (...args) => this.#inner.setTopic(...args);
  topic: Store["topic"] = (...args) => this.#inner.topic(...args);
  createAccount: Store["createAccount"] = (...args) => this.#inner.createAccount(...args);
  accountByName: Store["accountByName"] = (...args) => this.#inner.accountByName(...args);
  accountById: Store["accountById"] = (...args) => this.#inner.accountById(...args);
  saveToken: Store["saveToken"] = (...args) => this.#inner.saveToken(...args);
  tokenAccount: Store["tokenAccount"] = (...args) => this.#inner.tokenAccount(...args);
  revokeToken: Store["revokeToken"] = (...args) => this.#inner.revokeToken(...args);
  // Who may do what is read, never made to fail here.
  roomRecord: Store["roomRecord"] = (...args) => this.#inner.roomRecord(...args);
  createRoom: Store["createRoom"] = (...args) => this.#inner.createRoom(...args);
  updateRoom: Store["updateRoom"] = (...args) => this.#inner.updateRoom(...args);
  setRole: Store["setRole"] = (...args) => this.#inner.setRole(...args);
  roles: Store["roles"] = (...args) => this.#inner.roles(...args);
  rolesOf: Store["rolesOf"] = (...args) => this.#inner.rolesOf(...args);
  setSanction: Store["setSanction"] = (...args) => this.#inner.setSanction(...args);
  liftSanction: Store["liftSanction"] = (...args) => this.#inner.liftSanction(...args);
  sanctions: Store["sanctions"] = (...args) => this.#inner.sanctions(...args);
  setAddressBan: Store["setAddressBan"] = (...args) => this.#inner.setAddressBan(...args);
  liftAddressBan: Store["liftAddressBan"] = (...args) => this.#inner.liftAddressBan(...args);
  addressBans: Store["addressBans"] = (...args) => this.#inner.addressBans(...args);
  createInvite: Store["createInvite"] = (...args) => this.#inner.createInvite(...args);
  redeemInvite: Store["redeemInvite"] = (...args) => this.#inner.redeemInvite(...args);
  createWebhook: Store["createWebhook"] = (...args) => this.#inner.createWebhook(...args);
  webhookBySecret: Store["webhookBySecret"] = (...args) => this.#inner.webhookBySecret(...args);
  webhooks: Store["webhooks"] = (...args) => this.#inner.webhooks(...args);
  revokeWebhook: Store["revokeWebhook"] = (...args) => this.#inner.revokeWebhook(...args);
  addReport: Store["addReport"] = (...args) => this.#inner.addReport(...args);
  reports: Store["reports"] = (...args) => this.#inner.reports(...args);
  resolveReport: Store["resolveReport"] = (...args) => this.#inner.resolveReport(...args);
  addAudit: Store["addAudit"] = (...args) => this.#inner.addAudit(...args);
  audit: Store["audit"] = (...args) => this.#inner.audit(...args);
  admins: Store["admins"] = (...args) => this.#inner.admins(...args);
  setAdmin: Store["setAdmin"] = (...args) => this.#inner.setAdmin(...args);
  messageIdsBy: Store["messageIdsBy"] = (...args) => this.#inner.messageIdsBy(...args);
  listAccounts: Store["listAccounts"] = (...args) => this.#inner.listAccounts(...args);
  accountDisabled: Store["accountDisabled"] = (...args) => this.#inner.accountDisabled(...args);
  setDisabled: Store["setDisabled"] = (...args) => this.#inner.setDisabled(...args);
  deleteAccount: Store["deleteAccount"] = (...args) => this.#inner.deleteAccount(...args);
  setPasswordHash: Store["setPasswordHash"] = (...args) => this.#inner.setPasswordHash(...args);
  saveResetCode: Store["saveResetCode"] = (...args) => this.#inner.saveResetCode(...args);
  takeResetCode: Store["takeResetCode"] = (...args) => this.#inner.takeResetCode(...args);
  deleteRoom: Store["deleteRoom"] = (...args) => this.#inner.deleteRoom(...args);
  exportRooms: Store["exportRooms"] = (...args) => this.#inner.exportRooms(...args);
  exportMessages: Store["exportMessages"] = (...args) => this.#inner.exportMessages(...args);
  importRoom: Store["importRoom"] = (...args) => this.#inner.importRoom(...args);
  importMessages: Store["importMessages"] = (...args) => this.#inner.importMessages(...args);
  backup: Store["backup"] = (...args) => this.#inner.backup(...args);
  createBot: Store["createBot"] = (...args) => this.#inner.createBot(...args);
  bot: Store["bot"] = (...args) => this.#inner.bot(...args);
  botByToken: Store["botByToken"] = (...args) => this.#inner.botByToken(...args);
  bots: Store["bots"] = (...args) => this.#inner.bots(...args);
  outgoingBots: Store["outgoingBots"] = (...args) => this.#inner.outgoingBots(...args);
  setBotToken: Store["setBotToken"] = (...args) => this.#inner.setBotToken(...args);
  botCursors: Store["botCursors"] = (...args) => this.#inner.botCursors(...args);
  advanceBotCursor: Store["advanceBotCursor"] = (...args) => this.#inner.advanceBotCursor(...args);
  leaseBot: Store["leaseBot"] = (...args) => this.#inner.leaseBot(...args);
  setBotError: Store["setBotError"] = (...args) => this.#inner.setBotError(...args);
  setNotify: Store["setNotify"] = (...args) => this.#inner.setNotify(...args);
  notifyLevels: Store["notifyLevels"] = (...args) => this.#inner.notifyLevels(...args);
  notifyLevelsIn: Store["notifyLevelsIn"] = (...args) => this.#inner.notifyLevelsIn(...args);
  setEmail: Store["setEmail"] = (...args) => this.#inner.setEmail(...args);
  emailOf: Store["emailOf"] = (...args) => this.#inner.emailOf(...args);
  scheduleDigest: Store["scheduleDigest"] = (...args) => this.#inner.scheduleDigest(...args);
  takeDueDigests: Store["takeDueDigests"] = (...args) => this.#inner.takeDueDigests(...args);
  nextDigestMs: Store["nextDigestMs"] = (...args) => this.#inner.nextDigestMs(...args);
  close: Store["close"] = () => this.#inner.close();
}

test("a failing store: joins and sends answer UNAVAILABLE, no ghost is left, the session goes on", async () => {
  const store = new FlakyStore(await openSqliteStore({ path: ":memory:" }));
  const server = await startTestServer({ store, presenceTickMs: 20 });
  const watcher = await liveUser(server, "watcher");
  const victim = await liveUser(server, "victim", { room: "elsewhere" });
  try {
    await nextMatching(watcher.events, isCaughtUp, "watcher live");
    store.failing = true;

    await assert.rejects(
      victim.session.join("lobby"),
      (error: { code: number; message: string }) => {
        assert.equal(error.code, status.UNAVAILABLE);
        assert.match(error.message, /database is locked by another program.*Try again shortly/);
        return true;
      },
    );
    const members = await watcher.client.listMembers({ room: "lobby" });
    assert.deepEqual(
      members.members.map((m) => m.username),
      ["watcher"],
      "no ghost member",
    );

    await assert.rejects(victim.session.send("lost?"), { code: status.UNAVAILABLE });
    store.failing = false;
    // The same session carries on: a join and a send now work.
    await victim.session.join("lobby");
    const ack = await victim.session.send("after the outage");
    // Presence comes on the next tick, the message at once: wait for both.
    const seen: string[] = [];
    let message = false;
    await nextMatching(
      watcher.events,
      (e) => {
        if (e.type === "presence") seen.push(...e.joined.map((m) => `+${m.username}`));
        message ||= isText("after the outage")(e);
        return message && seen.length > 0;
      },
      "the victim's join and message",
    );
    assert.deepEqual(seen, ["+victim"], "one join, for the join that worked");
    assert.ok(ack.id > 0);
    const history = await watcher.client.history({ limit: 10 });
    assert.deepEqual(
      history.messages.map((m) => m.text),
      ["after the outage"],
    );
  } finally {
    watcher.client.close();
    victim.client.close();
    await server.stop();
  }
});

test("a send refused as UNAVAILABLE is retried by the SDK with the same key and stored once", async () => {
  const store = new FlakyStore(await openSqliteStore({ path: ":memory:" }));
  const server = await startTestServer({ store });
  const watcher = await liveUser(server, "watcher");
  const client = testClient(server, { username: "retrier" });
  const live = new LiveChat(client, { rooms: [], backoff: { initialMs: 20, maxMs: 100 } });
  try {
    await nextMatching(watcher.events, isCaughtUp, "watcher live");
    store.failing = true;
    const sent = live.send("eventually");
    // Retried while the store fails: each try reaches the store and is refused.
    await within(store.refusals(2), 10_000, "two refused tries");
    store.failing = false;
    const ack = await within(sent, 10_000, "the send to be stored after the outage");
    await nextMatching(watcher.events, isText("eventually"), "the message at the watcher");
    const history = await watcher.client.history({ limit: 10 });
    assert.deepEqual(
      history.messages.map((m) => [m.id, m.text]),
      [[ack.id, "eventually"]],
    );
  } finally {
    await live.close();
    client.close();
    watcher.client.close();
    await server.stop();
  }
});

test("a seed stream whose message cannot be stored ends with UNAVAILABLE, saying why", async () => {
  const store = new FlakyStore(await openSqliteStore({ path: ":memory:" }));
  const server = await startTestServer({ store, presenceTickMs: 20 });
  const watcher = await liveUser(server, "watcher");
  const seed = new SeedClient(server.address, randomUUID(), "sid");
  try {
    await seed.joinChat();
    const call = seed.chatStream();
    const reader = streamReader(call);
    call.write({ user_id: seed.userId, username: "sid", message: "", timestamp: "" });
    await nextMatching(watcher.events, isPresence("sid"), "sid's stream in the room");
    store.failing = true;
    call.write({ user_id: seed.userId, username: "sid", message: "hello?", timestamp: "" });
    const error = await within(reader.finished, 5_000, "the seed stream to end");
    assert.equal(error?.code, status.UNAVAILABLE);
    assert.match(error?.details ?? "", /database is locked/);
  } finally {
    seed.close();
    watcher.client.close();
    await server.stop();
  }
});

test("/readyz says not ready while the store does not answer, and ready again after", async () => {
  const store = new FlakyStore(await openSqliteStore({ path: ":memory:" }));
  const server = await startTestServer({ store, httpPort: 0 });
  const readyz = () => fetch(`${server.httpUrl}readyz`);
  try {
    assert.equal((await readyz()).status, 200);
    store.failing = true;
    const refused = await readyz();
    assert.equal(refused.status, 503);
    assert.match(await refused.text(), /store does not answer/);
    assert.equal((await fetch(`${server.httpUrl}healthz`)).status, 200, "alive all the same");
    store.failing = false;
    assert.equal((await readyz()).status, 200);
  } finally {
    await server.stop();
  }
});
