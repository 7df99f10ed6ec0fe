import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { type ServiceError, status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { nextMatching, startTestServer, testClient, within } from "./helpers.ts";
import { type SeedChatMessage, SeedClient, streamReader } from "./seed-client.ts";

/** Asserts a failed call's status code and that its sentence mentions `says`. */
function refusedWith(code: status, says: RegExp) {
  return (error: Partial<ServiceError> & { message: string }) => {
    assert.equal(error.code, code, `expected ${status[code]}, got ${error.code}: ${error.message}`);
    assert.match(error.details ?? error.message, says);
    return true;
  };
}

describe("input rules", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ limits: { maxMessageBytes: 64 } });
  });
  after(() => server.stop());

  const seed = (name: string, userId: string = randomUUID()) =>
    new SeedClient(server.address, userId, name);

  for (const [what, name, says] of [
    ["an empty username", "   ", /username is required/],
    ["a username over 32 characters", "x".repeat(33), /33 characters long; the limit is 32/],
    ["a username with control characters", "evil\u001b[2J", /control, invisible/],
    ["the server's own name", "System", /reserved/],
  ] as const) {
    test(`JoinChat refuses ${what} with INVALID_ARGUMENT`, async () => {
      const client = seed(name);
      try {
        await assert.rejects(client.joinChat(), refusedWith(status.INVALID_ARGUMENT, says));
      } finally {
        client.close();
      }
    });
  }

  test("a username of 32 characters, counted as characters not bytes, is fine", async () => {
    const client = seed("é".repeat(32));
    try {
      assert.equal((await client.joinChat()).success, true);
    } finally {
      client.close();
    }
  });

  test("JoinChat refuses an empty user_id and a look-alike of the server's name", async () => {
    const client = seed("kim", "");
    try {
      await assert.rejects(
        client.joinChat(),
        refusedWith(status.INVALID_ARGUMENT, /user_id is required/),
      );
      await assert.rejects(
        client.joinChat({ user_id: "some-secret", username: "Sуstem" }),
        refusedWith(status.INVALID_ARGUMENT, /reserved/),
      );
    } finally {
      client.close();
    }
  });

  test("a ChatStream message claiming another user_id ends the stream with INVALID_ARGUMENT", async () => {
    const client = seed("mallory");
    await client.joinChat();
    const call = client.chatStream();
    const { finished } = streamReader<SeedChatMessage>(call);
    try {
      call.write({ user_id: client.userId, username: "mallory", message: "", timestamp: "" });
      call.write({
        user_id: "someone-else",
        username: "victim",
        message: "spoofed",
        timestamp: "",
      });
      const error = await within(finished, 5_000, "the stream to end");
      assert.ok(error, "the stream ended without an error");
      refusedWith(status.INVALID_ARGUMENT, /claims a user_id other than the caller's own/)(error);
      const history = await client.getChatHistory(50, false);
      assert.ok(!history.some((m) => m.message === "spoofed"), "the spoofed message was stored");
    } finally {
      client.close();
    }
  });

  test("a message over the byte limit ends a seed stream with INVALID_ARGUMENT", async () => {
    const client = seed("long");
    await client.joinChat();
    const call = client.chatStream();
    const { finished } = streamReader<SeedChatMessage>(call);
    try {
      call.write({
        user_id: client.userId,
        username: "long",
        message: "é".repeat(33),
        timestamp: "",
      });
      const error = await within(finished, 5_000, "the stream to end");
      assert.ok(error);
      refusedWith(status.INVALID_ARGUMENT, /66 bytes long; the limit is 64 bytes/)(error);
    } finally {
      client.close();
    }
  });

  test("a batch with one bad message is refused whole, and nothing of it is stored", async () => {
    const client = seed("batcher");
    await client.joinChat();
    try {
      await assert.rejects(
        client.sendMessages([
          { user_id: client.userId, username: "batcher", message: "fine" },
          { user_id: client.userId, username: "batcher", message: "x".repeat(65) },
        ]),
        refusedWith(status.INVALID_ARGUMENT, /Message 2 of the batch: .*65 bytes/),
      );
      await assert.rejects(
        client.sendMessages([
          { user_id: client.userId, username: "batcher", message: "mine" },
          { user_id: "other", username: "batcher", message: "theirs" },
        ]),
        refusedWith(status.INVALID_ARGUMENT, /claims a user_id other than the caller's own/),
      );
      const history = await client.getChatHistory(50, false);
      assert.deepEqual(
        history.filter((m) => m.username === "batcher"),
        [],
      );
    } finally {
      client.close();
    }
  });

  test("our Session refuses a bad send with a reason and carries on", async () => {
    const client = testClient(server, { username: "sam" });
    const watcher = testClient(server, { username: "watcher" });
    try {
      await client.join();
      await watcher.join();
      const watching = watcher.openSession();
      const events = watching[Symbol.asyncIterator]();
      await watching.join("lobby");
      await nextMatching(events, (e) => e.type === "caught_up", "watcher live");
      const session = client.openSession();
      await session.join("lobby");

      await assert.rejects(session.send("x".repeat(65)), (error: ChatClientError) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.message, /65 bytes long; the limit is 64 bytes/);
        return true;
      });
      await assert.rejects(session.send("   "), /needs some text/);
      await assert.rejects(
        session.send("ok", { clientMsgId: "k".repeat(65) }),
        /client_msg_id is longer than 64/,
      );
      const ack = await session.send("still here");
      assert.ok(ack.id > 0);
      await nextMatching(
        events,
        (e) => e.type === "message" && e.message.text === "still here",
        "the good message at the watcher",
      );
      session.close();
      watching.close();
    } finally {
      client.close();
      watcher.close();
    }
  });

  test("our Session's first frame must be a hello with a valid name", async () => {
    const client = testClient(server, { username: "" });
    try {
      const session = client.openSession();
      const error = await within(session.ended, 5_000, "the session to end");
      assert.ok(error instanceof ChatClientError);
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.message, /username is required/);
    } finally {
      client.close();
    }
  });

  test("History refuses a page over 1000 and Send needs a joined user", async () => {
    const client = testClient(server, { username: "nora" });
    try {
      await assert.rejects(
        client.history({ limit: 1001 }),
        refusedWith(status.INVALID_ARGUMENT, /At most 1000/),
      );
      await assert.rejects(
        client.send("hello"),
        refusedWith(status.FAILED_PRECONDITION, /call JoinChat or open a Session first/),
      );
      await client.join();
      assert.ok((await client.send("hello")).id > 0);
    } finally {
      client.close();
    }
  });
});
