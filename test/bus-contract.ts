import assert from "node:assert/strict";
import { test } from "node:test";
import type { Bus, BusEvent } from "../src/bus/bus.ts";
import { within } from "./helpers.ts";

/**
 * What every Bus must do, on a real engine. `connect` joins a fresh node to
 * one shared cluster (the same one for every call within a test run).
 */
export function busContract(name: string, connect: () => Promise<Bus>): void {
  const event = (bus: Bus, text: string): BusEvent => ({
    origin: bus.nodeId,
    room: "lobby",
    payload: {
      type: "message",
      message: {
        room: "lobby",
        id: 1,
        timeMs: 1,
        userId: "u1",
        username: "una",
        text,
        kind: "chat",
        clientMsgId: "k1",
      },
    },
  });

  test(`${name}: an event reaches every other node intact, and not its origin`, async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    try {
      const atA: BusEvent[] = [];
      a.onEvent((e) => atA.push(e));
      const atB = new Promise<BusEvent>((resolve) => b.onEvent(resolve));
      const atC = new Promise<BusEvent>((resolve) => c.onEvent(resolve));
      const sent = event(a, "hello");
      await a.publish(sent);
      assert.deepEqual(await within(atB, 5_000, "the event at b"), sent);
      assert.deepEqual(await within(atC, 5_000, "the event at c"), sent);
      // b publishing proves the cluster delivers in order; a must not have seen its own.
      const echo = new Promise<BusEvent>((resolve) => a.onEvent(resolve));
      await b.publish(event(b, "from b"));
      await within(echo, 5_000, "b's event at a");
      assert.deepEqual(
        atA.map((e) =>
          "node" in e ? e.node.type : e.payload.type === "message" ? e.payload.message.text : "",
        ),
        ["from b"],
      );
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  test(`${name}: a closed node receives nothing more`, async () => {
    const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
    try {
      const atB: BusEvent[] = [];
      b.onEvent((e) => atB.push(e));
      const atC = new Promise<BusEvent>((resolve) => c.onEvent(resolve));
      await b.close();
      await a.publish(event(a, "after close"));
      await within(atC, 5_000, "the event at c");
      assert.deepEqual(atB, []);
    } finally {
      await Promise.all([a.close(), c.close()]);
    }
  });
}
