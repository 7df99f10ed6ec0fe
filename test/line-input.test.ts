// The terminal client's typed lines: every one, in order, however they arrive.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { lineInput } from "../src/cli/line-input.ts";

test("typed lines come out one by one, in order, whether asked for before or after they arrive", async () => {
  const stdin = new PassThrough();
  const input = lineInput(stdin);
  // Asked for first, then typed.
  const first = input.next();
  stdin.write("/join #dev\n");
  assert.deepEqual(await first, { done: false, value: "/join #dev" });
  // Several at once, and one split across writes, while nobody asks.
  stdin.write("hello dev\n/topic Deploy day\n/ro");
  stdin.write("oms\n");
  await new Promise((resolve) => setImmediate(resolve));
  const got: string[] = [];
  for (let i = 0; i < 3; i++) got.push(String((await input.next()).value));
  assert.deepEqual(got, ["hello dev", "/topic Deploy day", "/rooms"]);
  // The end of input ends the lines, for a wait already made and for later asks.
  const waiting = input.next();
  stdin.end("last\n");
  assert.deepEqual(await waiting, { done: false, value: "last" });
  assert.deepEqual(await input.next(), { done: true, value: undefined });
  assert.deepEqual(await input.next(), { done: true, value: undefined });
});
