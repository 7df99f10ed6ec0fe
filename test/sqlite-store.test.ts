import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SqliteStore } from "../src/store/sqlite-store.ts";
import { tempDir } from "./helpers.ts";
import { manualClock, storeContract } from "./store-contract.ts";

storeContract(
  "SqliteStore (:memory:)",
  async (clock) => new SqliteStore({ path: ":memory:", clock }),
);

test("SqliteStore keeps messages in its file across reopen, creating the directory", async () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, "nested", "chat.db");
    const first = new SqliteStore({ path, clock: manualClock() });
    await first.append([
      { room: "r", userId: "u", username: "una", text: "kept", kind: "chat", clientMsgId: "" },
    ]);
    await first.close();
    const second = new SqliteStore({ path, clock: manualClock() });
    assert.deepEqual(
      (await second.history("r", { limit: 5, includeSystem: true })).map((m) => [m.id, m.text]),
      [[1, "kept"]],
    );
    const [next] = await second.append([
      { room: "r", userId: "u", username: "una", text: "more", kind: "chat", clientMsgId: "" },
    ]);
    assert.equal(next?.message.id, 2);
    await second.close();
  } finally {
    dir.remove();
  }
});
