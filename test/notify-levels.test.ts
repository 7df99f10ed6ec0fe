// A room's notification level is the user's, kept by the server: set on one
// session, every other session of theirs hears it at once (so every client
// follows it without asking again), and the room list carries it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { status } from "@grpc/grpc-js";
import type { SessionEvent } from "../src/client/events.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { isText, liveUser, nextMatching, refusal, startTestServer, testClient } from "./helpers.ts";

let server: RunningChatServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.stop());

test("a level set on one session reaches the user's other sessions and the room list, and no one else's", async () => {
  const first = testClient(server, { username: "nell" });
  const { token } = await first.register("nell", "correct horse battery");
  const second = testClient(server, { username: "nell", token });
  const session = second.openSession();
  const events = session[Symbol.asyncIterator]();
  await session.join("dev");
  const other = await liveUser(server, "otto", { room: "dev" });

  assert.equal(await first.notify.set("dev", "all"), "all");
  const heard = await nextMatching(
    events,
    (e) => e.type === "notify",
    "the level at nell's other session",
  );
  assert.deepEqual(heard, { type: "notify", room: "dev", level: "all" });
  const { rooms } = await second.listRooms();
  assert.equal(rooms.find((r) => r.room === "dev")?.notify, "all");

  // Back to the default: the room list says so too.
  await first.notify.set("dev", "mentions");
  await nextMatching(
    events,
    (e) => e.type === "notify" && e.level === "mentions",
    "the default again",
  );
  assert.equal((await second.listRooms()).rooms.find((r) => r.room === "dev")?.notify, "mentions");

  // Otto heard none of it: his next event after nell's levels is a message.
  await first.send("levels done", { room: "dev" });
  const seen: SessionEvent[] = [];
  await nextMatching(
    other.events,
    (e) => {
      seen.push(e);
      return isText("levels done")(e);
    },
    "the message at otto",
  );
  assert.equal(seen.filter((e) => e.type === "notify").length, 0);

  // A room one may not use has no level to set.
  const elsewhere = await refusal(first.notify.set("dm:a-x:a-y", "off"));
  assert.equal(elsewhere.code, status.NOT_FOUND);
  session.close();
  for (const c of [first, second, other.client]) c.close();
});
