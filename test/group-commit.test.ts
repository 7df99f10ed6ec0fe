import assert from "node:assert/strict";
import { test } from "node:test";
import { GroupCommit, type WaitingAppend } from "../src/store/group-commit.ts";
import type { AppendResult, NewMessage } from "../src/store/store.ts";

function message(text: string): NewMessage {
  return { room: "lobby", userId: "u", username: "u", text, kind: "chat", clientMsgId: "" };
}

/** A commit that stores nothing: each call is answered with its texts, once the test lets it. */
function heldCommits() {
  const groups: string[][] = [];
  const releases: (() => void)[] = [];
  let started: () => void = () => {};
  const commit = (group: WaitingAppend[]) => {
    groups.push(group.flatMap((call) => call.messages.map((m) => m.text)));
    started();
    return new Promise<void>((resolve) => {
      releases.push(() => {
        for (const call of group) {
          call.resolve(
            call.messages.map(
              (m, i): AppendResult => ({
                message: { ...m, id: i + 1, timeMs: 0 },
                duplicate: false,
              }),
            ),
          );
        }
        resolve();
      });
    });
  };
  const nextStart = () => new Promise<void>((resolve) => (started = resolve));
  return { commit, groups, release: () => releases.shift()?.(), nextStart };
}

const texts = (results: AppendResult[]) => results.map((r) => r.message.text);

test("appends made while a group commits go together as the next group, in order", async () => {
  const held = heldCommits();
  const queue = new GroupCommit({ commit: held.commit });
  const first = held.nextStart();
  const a = queue.append([message("a")]);
  await first;
  const b = queue.append([message("b1"), message("b2")]);
  const c = queue.append([message("c")]);
  assert.equal(queue.waiting, 2);
  const second = held.nextStart();
  held.release();
  await second;
  held.release();
  assert.deepEqual(await Promise.all([a, b, c]).then((r) => r.map(texts)), [
    ["a"],
    ["b1", "b2"],
    ["c"],
  ]);
  assert.deepEqual(held.groups, [["a"], ["b1", "b2", "c"]]);
});

test("with an interval, the appends of one turn share a group", async () => {
  const held = heldCommits();
  const queue = new GroupCommit({ commit: held.commit, intervalMs: 0 });
  const started = held.nextStart();
  const calls = [queue.append([message("a")]), queue.append([message("b")])];
  assert.deepEqual(held.groups, [], "nothing goes before the turn ends");
  await started;
  held.release();
  await Promise.all(calls);
  assert.deepEqual(held.groups, [["a", "b"]]);
});

test("drain sends at once what waits for the interval, and resolves when all is committed", async () => {
  const held = heldCommits();
  // An interval no test would wait out: only drain can send the second group.
  const queue = new GroupCommit({ commit: held.commit, intervalMs: 3_600_000 });
  const first = held.nextStart();
  const a = queue.append([message("a")]);
  await first;
  const b = queue.append([message("b")]);
  const second = held.nextStart();
  const drained = queue.drain();
  held.release();
  await second;
  let done = false;
  void drained.then(() => {
    done = true;
  });
  await a;
  assert.equal(done, false, "drained while a group was still committing");
  held.release();
  await drained;
  assert.deepEqual(texts(await b), ["b"]);
  assert.deepEqual(held.groups, [["a"], ["b"]]);
});

test("a commit that throws fails its own group, and the next group still goes", async () => {
  let calls = 0;
  const queue = new GroupCommit({
    commit: async (group) => {
      calls++;
      if (calls === 1) throw new Error("broken");
      for (const call of group) call.resolve([]);
    },
  });
  const bad = queue.append([message("a")]);
  const good = queue.append([message("b")]);
  await assert.rejects(bad, /broken/);
  assert.deepEqual(await good, []);
  assert.equal(calls, 2);
});
