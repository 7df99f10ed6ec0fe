// The HTTP port: the same service over Connect and gRPC-Web as over native
// gRPC, the probes, the metrics, and the headers a browser is given.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { JsonValue } from "@bufbuild/protobuf";
import { NO_ABUSE_LIMITS } from "../src/core/limits.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { manualClock } from "./core-helpers.ts";
import { startTestServer, within } from "./helpers.ts";
import { type AnyClient, clientsFor, type Headers, type Outcome } from "./http-clients.ts";

/** Subscribe's events up to the first caught_up (or the end), as outcomes. */
async function untilCaughtUp(client: AnyClient, request: object, headers: Headers) {
  const { events, stop } = client.subscribe(request, headers);
  const seen: Outcome[] = [];
  try {
    for (;;) {
      const next = await within(events.next(), 5_000, `${client.name} Subscribe events`);
      if (next.done) return seen;
      seen.push(next.value);
      const value = next.value as { ok?: { caughtUp?: unknown } };
      if (!("ok" in next.value) || value.ok?.caughtUp) return seen;
    }
  } finally {
    stop();
  }
}

/** Every call a browser makes, good and bad, on one client: what each answered. */
async function browserCalls(client: AnyClient): Promise<Array<[string, Outcome | Outcome[]]>> {
  const log: Array<[string, Outcome | Outcome[]]> = [];
  const call = async (label: string, method: string, request: object, headers?: Headers) => {
    const outcome = await client.unary(method, request, headers);
    log.push([label, outcome]);
    return outcome as { ok: Record<string, JsonValue> };
  };
  const subscribe = async (label: string, request: object, headers: Headers) => {
    log.push([label, await untilCaughtUp(client, request, headers)]);
  };
  await call("ping", "ping", {});
  const registered = await call("register", "register", {
    username: "alice",
    password: "correct horse",
  });
  const alice = { authorization: `Bearer ${registered.ok.token}` };
  await call("register a taken name", "register", { username: "ALICE", password: "another one" });
  await call("login, wrong password", "login", { username: "alice", password: "wrong horse" });
  await call("login", "login", { username: "alice", password: "correct horse" });
  await call("whoAmI", "whoAmI", {}, alice);
  await call("whoAmI, forged token", "whoAmI", {}, { authorization: "Bearer forged" });
  await call("send", "send", { room: "lobby", text: "hello", clientMsgId: "m-1" }, alice);
  await call(
    "send again, same id",
    "send",
    { room: "lobby", text: "hello", clientMsgId: "m-1" },
    alice,
  );
  await call("send to a bad room", "send", { room: "no spaces here", text: "x" }, alice);
  await call("send nothing", "send", { room: "lobby", text: "" }, alice);
  await call("setTopic", "setTopic", { room: "lobby", topic: "Welcome <b>all</b>" }, alice);
  await call("history", "history", { room: "lobby", limit: 10 }, alice);
  await call("history, too much", "history", { room: "lobby", limit: 100_000 }, alice);
  const bob = { user_id: "bob's own secret" };
  await subscribe("subscribe as a guest", { username: "bob", rooms: [{ room: "lobby" }] }, bob);
  await call("listMembers", "listMembers", { room: "lobby" }, alice);
  const dave = await call("register dave", "register", {
    username: "dave",
    password: "dave's pass",
  });
  const daves = { authorization: `Bearer ${dave.ok.token}` };
  const direct = await call("openDirect", "openDirect", { username: "dave" }, alice);
  await call(
    "send a DM",
    "send",
    { room: direct.ok.room, text: "hi dave", clientMsgId: "d-1" },
    alice,
  );
  await call("DM history, dave", "history", { room: direct.ok.room }, daves);
  const mallory = { user_id: "mallory's secret" };
  await call("DM history, a third user", "history", { room: direct.ok.room }, mallory);
  await subscribe(
    "subscribe a third user to the DM",
    { username: "mallory", rooms: [{ room: direct.ok.room }] },
    mallory,
  );
  await subscribe(
    "resume the lobby from the start",
    { username: "bob", rooms: [{ room: "lobby", resumeAfterId: 0n }] },
    bob,
  );
  await call("listRooms", "listRooms", {}, alice);
  for (let i = 1; i <= 7; i++) {
    await call(
      `bob's send ${i}`,
      "send",
      { room: "lobby", text: `b${i}`, clientMsgId: `b-${i}` },
      bob,
    );
  }
  await call("logout", "logout", {}, alice);
  await call("whoAmI after logout", "whoAmI", {}, alice);
  return log;
}

/** What differs between servers by chance (tokens, random ids and keys) becomes a placeholder. */
function normalised(log: unknown): unknown {
  const names = new Map<string, string>();
  const placeholder = (value: string, kind: string) => {
    if (!names.has(value)) names.set(value, `<${kind} ${names.size + 1}>`);
    return names.get(value) as string;
  };
  const walk = (value: unknown, key = ""): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    if (typeof value !== "string") return value;
    if (key === "token" || key === "epoch") return `<${key}>`;
    if (key === "userId") return placeholder(value, "user");
    return value;
  };
  const walked = JSON.stringify(walk(log));
  let text = walked;
  for (const [id, name] of names) text = text.replaceAll(id, name);
  // A DM room is named by its users' ids sorted, and ids differ between servers.
  text = text.replace(
    /dm:(<user \d+>):(<user \d+>)/g,
    (_m, a: string, b: string) => `dm:${[a, b].sort().join(":")}`,
  );
  return JSON.parse(text);
}

describe("the HTTP port", () => {
  test("every call a browser makes answers the same over Connect, gRPC-Web and native gRPC", async () => {
    const answers = [];
    for (const index of [0, 1, 2]) {
      // A fresh server per transport, on a clock that stands still: the same calls give the same answers.
      const server = await startTestServer({
        httpPort: 0,
        clock: manualClock(),
        passwordCost: 10,
        limits: { sendBurst: 6 },
      });
      const client = clientsFor(server)[index] as AnyClient;
      try {
        answers.push({ name: client.name, log: normalised(await browserCalls(client)) });
      } finally {
        client.close();
        await server.stop();
      }
    }
    const [native, ...others] = answers;
    const log = native?.log as Array<[string, unknown]>;
    // The scenario means something: it saw successes, refusals and a rate limit.
    const codes = JSON.stringify(log);
    for (const expected of [
      '"code":6',
      '"code":16',
      '"code":3',
      '"code":5',
      '"retryAfterMs"',
      '"caughtUp"',
    ]) {
      assert.ok(codes.includes(expected), `native gRPC's answers include ${expected}`);
    }
    for (const other of others) {
      const theirs = other.log as Array<[string, unknown]>;
      for (const [i, [label, outcome]] of log.entries()) {
        assert.deepEqual(theirs[i], [label, outcome], `${other.name}: ${label}`);
      }
    }
  });
});

describe("the HTTP port of one server", () => {
  let server: RunningChatServer;
  let url: string;
  before(async () => {
    server = await startTestServer({
      httpPort: 0,
      httpAllowOrigins: ["https://chat.example.com"],
    });
    url = server.httpUrl ?? "";
  });
  after(() => server.stop());

  const metric = async (name: string) => {
    const text = await (await fetch(`${url}metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    return Number(line?.split(" ")[1] ?? Number.NaN);
  };

  test("curl's plain JSON call answers", async () => {
    const response = await fetch(`${url}chat.ChatService/Ping`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { serverTimeMs: string };
    assert.ok(Math.abs(Number(body.serverTimeMs) - Date.now()) < 60_000);
  });

  test("a message from a native client reaches Connect and gRPC-Web subscribers live, and /metrics moves", async () => {
    const [native, ...browsers] = clientsFor(server) as [AnyClient, AnyClient, AnyClient];
    const stored = await metric("grpc_chat_messages_stored_total");
    const deliveries = await metric("grpc_chat_deliveries_total");
    const subscriptions = browsers.map((client, i) => {
      const sub = client.subscribe(
        { username: `viewer${i}`, rooms: [{ room: "live" }] },
        {
          user_id: `viewer ${i} secret`,
        },
      );
      return { client, ...sub };
    });
    try {
      for (const { events, client } of subscriptions) {
        for (;;) {
          const next = await within(events.next(), 5_000, `${client.name} to catch up`);
          assert.ok(
            !next.done && "ok" in next.value,
            `${client.name}: ${JSON.stringify(next.value)}`,
          );
          if ((next.value.ok as { caughtUp?: unknown }).caughtUp) break;
        }
      }
      assert.equal(await metric('grpc_chat_streams{transport="http"}'), 2);
      await native.unary("joinChat", { userId: "sender secret", username: "sender" });
      const sent = await native.unary(
        "send",
        { room: "live", text: "<script>alert(1)</script>", clientMsgId: "live-1" },
        { user_id: "sender secret" },
      );
      assert.ok("ok" in sent, JSON.stringify(sent));
      for (const { events, client } of subscriptions) {
        for (;;) {
          const next = await within(events.next(), 5_000, `${client.name} to get the message`);
          assert.ok(!next.done && "ok" in next.value);
          const message = (next.value.ok as { message?: { text: string; username: string } })
            .message;
          if (!message) continue;
          assert.deepEqual(
            [message.username, message.text],
            ["sender", "<script>alert(1)</script>"],
          );
          break;
        }
      }
      assert.equal(await metric("grpc_chat_messages_stored_total"), stored + 1);
      assert.ok((await metric("grpc_chat_deliveries_total")) >= deliveries + 2);
    } finally {
      for (const { stop } of subscriptions) stop();
      native.close();
    }
    // A browser that goes away leaves: its stream is no longer counted.
    for (let i = 0; (await metric('grpc_chat_streams{transport="http"}')) > 0; i++) {
      assert.ok(i < 100, "the closed subscriptions are still counted");
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  test("what only native gRPC can carry is refused with where to go instead", async () => {
    const [, connect] = clientsFor(server) as [AnyClient, AnyClient];
    const answer = await connect.unary("joinChat", { userId: "x", username: "x" });
    assert.deepEqual(answer, {
      code: 12,
      message:
        "This call is served on the native gRPC port only; on this port use Subscribe and Send.",
    });
  });

  test("the page gets deliberate security headers; CORS only for the allowed origin", async () => {
    const page = await fetch(url);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const preflight = (origin: string) =>
      fetch(`${url}chat.ChatService/Send`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const allowed = await preflight("https://chat.example.com");
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://chat.example.com");
    assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /authorization/);
    const refused = await preflight("https://evil.example.net");
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
    const call = await fetch(`${url}chat.ChatService/Ping`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://chat.example.com" },
      body: "{}",
    });
    assert.match(call.headers.get("access-control-expose-headers") ?? "", /retry-after-ms/);
  });
});

test("/readyz goes unready at shutdown while the port still answers, and streams end UNAVAILABLE", async () => {
  const server = await startTestServer({ httpPort: 0, shutdownDelayMs: 1_000 });
  const url = server.httpUrl ?? "";
  const [, connect] = clientsFor(server) as [AnyClient, AnyClient];
  const { events } = connect.subscribe({ username: "watcher" }, { user_id: "watcher secret" });
  for (;;) {
    const next = await within(events.next(), 5_000, "the subscription to catch up");
    if (!next.done && "ok" in next.value && (next.value.ok as { caughtUp?: unknown }).caughtUp)
      break;
  }
  assert.equal((await fetch(`${url}healthz`)).status, 200);
  assert.equal((await fetch(`${url}readyz`)).status, 200);
  const stopped = server.stop();
  const readyz = await fetch(`${url}readyz`);
  assert.equal(readyz.status, 503);
  assert.match(await readyz.text(), /shutting down/);
  assert.equal((await fetch(`${url}healthz`)).status, 200);
  const last: Outcome[] = [];
  for (;;) {
    const next = await within(events.next(), 5_000, "the subscription to end");
    if (next.done) break;
    last.push(next.value);
  }
  assert.deepEqual(last.at(-1), {
    code: 14,
    message: "The server is shutting down; reconnect shortly.",
  });
  await stopped;
});

test("a browser that stops reading holds up no one, and gets everything once when it reads again", async () => {
  const limits = { ...NO_ABUSE_LIMITS, maxMessageBytes: 16_000 };
  const server = await startTestServer({ httpPort: 0, limits });
  const [native, connect, grpcWeb] = clientsFor(server) as [AnyClient, AnyClient, AnyClient];
  const subscribe = (client: AnyClient, name: string) =>
    client.subscribe({ username: name, rooms: [{ room: "busy" }] }, { user_id: `${name} secret` });
  const stalled = subscribe(connect, "stalled");
  const reader = subscribe(grpcWeb, "reader");
  const texts = async (events: AsyncIterator<Outcome>, count: number, what: string) => {
    const seen: string[] = [];
    let lastId = 0;
    while (seen.length < count) {
      const next = await within(events.next(), 10_000, what);
      assert.ok(!next.done && "ok" in next.value, JSON.stringify(next.value));
      const message = (next.value.ok as { message?: { text: string; id: string } }).message;
      if (!message) continue;
      assert.ok(Number(message.id) > lastId, `${what}: id ${message.id} after ${lastId}`);
      lastId = Number(message.id);
      seen.push(message.text.slice(0, 8));
    }
    return seen;
  };
  try {
    // Both are subscribed once each has had its first event (welcome).
    for (const { events } of [stalled, reader]) await within(events.next(), 5_000, "a welcome");
    const padding = "x".repeat(8_000);
    const count = 1_000;
    const expected = Array.from({ length: count }, (_, i) => `m${String(i).padStart(7, "0")}`);
    await native.unary("joinChat", { userId: "flood secret", username: "flood" });
    for (let i = 0; i < count; i += 100) {
      const sent = await Promise.all(
        expected
          .slice(i, i + 100)
          .map((text) =>
            native.unary(
              "send",
              { room: "busy", text: `${text}${padding}` },
              { user_id: "flood secret" },
            ),
          ),
      );
      for (const outcome of sent) assert.ok("ok" in outcome, JSON.stringify(outcome));
    }
    const order = (seen: string[]) => [...seen].sort();
    // Sends from one client in parallel are stored in any order; each arrives once.
    assert.deepEqual(order(await texts(reader.events, count, "the reader's messages")), expected);
    const text = await (await fetch(`${server.httpUrl}metrics`)).text();
    assert.match(text, /grpc_chat_readers_cut_off_total [1-9]/, "the stalled reader was cut off");
    assert.deepEqual(
      order(await texts(stalled.events, count, "the stalled reader's messages")),
      expected,
    );
  } finally {
    stalled.stop();
    reader.stop();
    native.close();
    await server.stop();
  }
});
