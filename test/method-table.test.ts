// The method table (src/server/methods.ts) is what the server enforces: each
// row's access, rate class and transports hold for every method, on every
// transport that serves it, because both transports apply the same row
// before the same implementation runs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { create, type DescMethod } from "@bufbuild/protobuf";
import {
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { ChatService } from "../src/gen/chat_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { METHODS, ruleOf } from "../src/server/methods.ts";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";
import { startTestServer, within } from "./helpers.ts";
import { type AnyClient, clientsFor, type Headers, type Outcome } from "./http-clients.ts";

type Calls = Record<string, (...args: unknown[]) => unknown>;

/** Calls any method natively with an empty request (one frame for streams); resolves to its status. */
function callNatively(address: string, method: DescMethod, headers: Headers): Promise<Outcome> {
  const Client = makeGenericClientConstructor(chatServiceDefinition, "ChatService");
  const client = new Client(address, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as Calls & { close(): void };
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const request = create(method.input);
  const call = client[method.localName] as (...args: unknown[]) => {
    on(event: string, listener: (value: never) => void): void;
    write(message: unknown): void;
    end(): void;
    cancel(): void;
  };
  const answer = new Promise<Outcome>((resolve) => {
    const done = (error: ServiceError | null) =>
      resolve(error ? { code: error.code, message: error.details } : { ok: null });
    switch (method.methodKind) {
      case "unary":
        call.call(client, request, metadata, done);
        return;
      case "client_streaming": {
        const stream = call.call(client, metadata, done);
        stream.write(request);
        stream.end();
        return;
      }
      default: {
        const stream =
          method.methodKind === "server_streaming"
            ? call.call(client, request, metadata)
            : call.call(client, metadata);
        stream.on("data", () => {});
        stream.on("status", (s: { code: number; details: string }) =>
          resolve({ code: s.code, message: s.details }),
        );
        stream.on("error", () => {});
        if (method.methodKind === "bidi_streaming") {
          stream.write(request);
          stream.end();
        }
      }
    }
  });
  return within(answer, 5_000, `${method.name}'s status`).finally(() => client.close());
}

/** Each method's outcome on each client that can make it (unary calls only over HTTP). */
async function unaryEverywhere(
  clients: AnyClient[],
  method: string,
  request: object,
  headers: Headers = {},
): Promise<Outcome[]> {
  return Promise.all(clients.map((client) => client.unary(method, request, headers)));
}

const codeOf = (outcome: Outcome) => ("code" in outcome ? outcome.code : status.OK);

/** Whether the call was refused for want of an account, before its method ran. */
const needsAccount = (outcome: Outcome) =>
  codeOf(outcome) === status.UNAUTHENTICATED &&
  /requires an account/.test((outcome as { message: string }).message);

test("the seed's rows are exactly the seed's four RPCs, served natively only", () => {
  const seedProto = readFileSync("test/fixtures/seed-chat.proto", "utf8");
  const seedNames = [...seedProto.matchAll(/^\s*rpc (\w+)\(/gm)].map((m) => m[1]);
  const seedRows = ChatService.methods.filter((m) => ruleOf(m.localName)?.seed);
  assert.deepEqual(seedRows.map((m) => m.name).sort(), [...seedNames].sort());
  for (const method of seedRows) assert.deepEqual(ruleOf(method.localName)?.transports, ["grpc"]);
  // Browsers can send no request stream: such a method cannot be on the HTTP port.
  for (const method of ChatService.methods) {
    const streamsIn =
      method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    if (streamsIn) assert.ok(!ruleOf(method.localName)?.transports.includes("http"), method.name);
  }
  assert.equal(Object.keys(METHODS).length, ChatService.methods.length);
});

describe("with accounts required", () => {
  let server: RunningChatServer;
  let clients: AnyClient[];

  before(async () => {
    server = await startTestServer({
      auth: "required",
      httpPort: 0,
      limits: {
        maxMessageBytes: 300,
        maxRoomChars: 20,
        maxRooms: 7,
        editWindowMs: 90_000,
        maxReactions: 8,
      },
    });
    clients = clientsFor(server);
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("a call without a token is refused for want of an account unless its row is open to anyone, natively", async () => {
    for (const method of ChatService.methods) {
      const outcome = await callNatively(server.address, method, {});
      const open = ruleOf(method.localName)?.access === "anyone";
      assert.equal(needsAccount(outcome), !open, `${method.name}: ${JSON.stringify(outcome)}`);
    }
  });

  test("GetServerInfo answers anyone, on every transport, with this server's own limits", async () => {
    for (const outcome of await unaryEverywhere(clients, "getServerInfo", {})) {
      assert.deepEqual(outcome, {
        ok: {
          accountsRequired: true,
          maxMessageBytes: 300,
          maxNameChars: 32,
          maxRoomChars: 20,
          maxRooms: 7,
          maxHistory: 1000,
          maxTopicChars: 200,
          maxBatch: 1000,
          defaultRoom: "lobby",
          editWindowMs: "90000",
          typingExpiryMs: 6000,
          maxReactions: 8,
          publicUrl: (server.httpUrl ?? "").replace(/\/$/, ""),
        },
      });
    }
  });

  test("the same holds on Connect and gRPC-Web for every unary call they serve", async () => {
    for (const method of ChatService.methods) {
      const rule = ruleOf(method.localName);
      if (method.methodKind !== "unary" || !rule?.transports.includes("http")) continue;
      const open = rule.access === "anyone";
      for (const outcome of await unaryEverywhere(clients, method.localName, {})) {
        assert.equal(needsAccount(outcome), !open, `${method.name}: ${JSON.stringify(outcome)}`);
      }
    }
  });
});

describe("in open mode", () => {
  let server: RunningChatServer;
  let clients: AnyClient[];

  before(async () => {
    server = await startTestServer({ httpPort: 0, limits: { authAttemptsPerMinute: 4 } });
    clients = clientsFor(server);
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  test("a method by room on another pair's direct messages is NOT_FOUND on every transport", async () => {
    const guest = { user_id: "a guest's own secret, long enough" };
    const theirs = "dm:a-someone:a-someone-else";
    // Moderators' and owners' methods too: a room the caller may not read is not there, whatever the role asked.
    const rows = Object.entries(METHODS).filter(
      ([, rule]) =>
        rule.access === "member" || rule.access === "moderator" || rule.access === "owner",
    );
    const requests: Record<string, object> = {
      send: { room: theirs, text: "let me in" },
      history: { room: theirs },
      setTopic: { room: theirs, topic: "mine now" },
      listMembers: { room: theirs },
      edit: { room: theirs, id: "1", text: "mine now" },
      delete: { room: theirs, id: "1" },
      react: { room: theirs, id: "1", emoji: "👍" },
      markRead: { room: theirs, lastReadId: "1" },
      setTyping: { room: theirs },
      getRoom: { room: theirs },
      updateRoom: { room: theirs, inviteOnly: true },
      setRole: { room: theirs, user: "someone", role: 2 },
      invite: { room: theirs, user: "someone" },
      createInvite: { room: theirs },
      kick: { room: theirs, user: "someone" },
      ban: { room: theirs, user: "someone" },
      unban: { room: theirs, user: "someone" },
      mute: { room: theirs, user: "someone" },
      unmute: { room: theirs, user: "someone" },
      listBans: { room: theirs },
      report: { room: theirs, messageId: "1", reason: "spam" },
      listReports: { room: theirs },
      resolveReport: { room: theirs, reportId: "1" },
      listAudit: { room: theirs },
      createWebhook: { room: theirs, name: "spy" },
      listWebhooks: { room: theirs },
      revokeWebhook: { room: theirs, name: "spy" },
      setNotify: { room: theirs, level: 1 },
    };
    for (const [name, rule] of rows) {
      if (!rule.room || name === "getChatHistory") continue;
      const request = requests[name];
      assert.ok(request, `a request naming a room for ${name}`);
      for (const outcome of await unaryEverywhere(clients, name, request, guest)) {
        assert.equal(codeOf(outcome), status.NOT_FOUND, name);
        assert.match((outcome as { message: string }).message, /no room .* that you can use/);
      }
    }
  });

  test("an account-only method refuses a guest, saying what it needs", async () => {
    const guest = { user_id: "another guest's secret, long enough" };
    const rows = Object.entries(METHODS).filter(([, rule]) => rule.access === "account");
    assert.deepEqual(rows.map(([name]) => name).sort(), [
      "createBot",
      "listBots",
      "logout",
      "revokeBot",
      "setEmail",
    ]);
    for (const [name, rule] of rows) {
      const outcomes = await unaryEverywhere(
        rule.transports.includes("http") ? clients : clients.slice(0, 1),
        name,
        {},
        guest,
      );
      for (const outcome of outcomes) {
        assert.equal(codeOf(outcome), status.FAILED_PRECONDITION, name);
        assert.match((outcome as { message: string }).message, /account's token/, name);
      }
    }
  });

  test("sign-in attempts: every method of that rate class draws on one bucket per address, on both ports", async () => {
    const attempts = ChatService.methods.filter((m) => ruleOf(m.localName)?.rate === "attempts");
    assert.deepEqual(attempts.map((m) => m.name).sort(), [
      "JoinChat",
      "Login",
      "RedeemInvite",
      "Register",
      "ResetPassword",
    ]);
    const [native, connect] = clients as [AnyClient, AnyClient, AnyClient];
    const credentials = { username: "nobody-here", password: "not the password" };
    // Four allowed per minute: two natively, two over Connect, then any of them is refused.
    assert.equal(codeOf(await native.unary("login", credentials)), status.UNAUTHENTICATED);
    assert.equal(
      codeOf(await native.unary("joinChat", { userId: "s-1", username: "joiner" })),
      status.OK,
    );
    assert.equal(codeOf(await connect.unary("login", credentials)), status.UNAUTHENTICATED);
    assert.equal(codeOf(await connect.unary("register", { username: "x", password: "" })), 3);
    for (const [client, method, request] of [
      [native, "register", { username: "later", password: "a long password" }],
      [connect, "login", credentials],
      [native, "joinChat", { userId: "s-2", username: "joiner2" }],
    ] as const) {
      const outcome = await client.unary(method, request);
      assert.equal(codeOf(outcome), status.RESOURCE_EXHAUSTED, `${client.name} ${method}`);
      assert.match((outcome as { message: string }).message, /Too many sign-in attempts/);
      assert.ok(Number((outcome as { retryAfterMs?: string }).retryAfterMs) > 0);
    }
    // Calls of no rate class are not counted.
    assert.equal(codeOf(await connect.unary("ping", {})), status.OK);
  });
});

test("docs/architecture.md shows the method table as the code has it", () => {
  const doc = readFileSync("docs/architecture.md", "utf8");
  const rows = new Map(
    [...doc.matchAll(/^\| `(\w+)`\s*\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|$/gm)].map((m) => [
      m[1],
      m.slice(2).map((cell) => (cell ?? "").trim()),
    ]),
  );
  for (const method of ChatService.methods) {
    const rule = ruleOf(method.localName);
    assert.ok(rule);
    assert.deepEqual(
      rows.get(method.name),
      [
        `${rule.access}${rule.room ? " (of the room it names)" : ""}`,
        rule.transports.join(", "),
        rule.rate,
        rule.seed ? "yes" : "",
      ],
      `${method.name}'s row in docs/architecture.md`,
    );
  }
  assert.equal(rows.size, ChatService.methods.length);
});
