// Interop with another gRPC implementation: a seed-style client in Python
// (Debian's python3-grpcio, message classes built at run time from the seed's
// descriptor, no generated code) chats with one of our clients through our
// server. The Python side is test/interop/seed_client.py; it prints one JSON
// line per step, which this test reads as it goes.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatLine, SessionEvent } from "../src/client/chat-client.ts";
import {
  type CliProcess,
  isPresence,
  nextMatching,
  spawnLines,
  startTestServer,
  testClient,
  within,
} from "./helpers.ts";
import { PYTHON, requirePythonGrpc } from "./seed-server.ts";

const SEED_CLIENT = "test/interop/seed_client.py";
const WAIT_MS = 10_000;

const PY_NAME = "PySeed";
const NODE_NAME = "tester";
const FROM_PY = "hello from python";
const FROM_NODE = "hello from node";
const BATCH = ["batch one", "batch two"];

/** A seed ChatMessage as the Python client prints it. */
interface SeedMessage {
  user_id: string;
  username: string;
  message: string;
  timestamp: string;
}

const SEED_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

/** The JSON object of the child's line for `step`, waiting for it. */
async function stepLine(child: CliProcess, step: string): Promise<Record<string, unknown>> {
  const line = await child.waitForLine(`{"step": "${step}"`, WAIT_MS);
  return JSON.parse(line) as Record<string, unknown>;
}

/** Every line the child printed for `step`, in order. */
function stepLines(child: CliProcess, step: string): Record<string, unknown>[] {
  return child.lines
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.step === step);
}

/** What a seen message is, for comparing whole conversations. */
const brief = (m: ChatLine) => ({
  userId: m.userId,
  username: m.username,
  text: m.text,
  system: m.system,
});
const briefSeed = (m: SeedMessage) => ({
  user_id: m.user_id,
  username: m.username,
  message: m.message,
});

test("a seed-style Python client (grpcio, runtime descriptors) chats with a project client", async (t) => {
  requirePythonGrpc();

  const server = await startTestServer();
  const node = testClient(server, { username: NODE_NAME });
  let python: CliProcess | undefined;
  t.after(async () => {
    if (python && python.child.exitCode === null && python.child.signalCode === null) {
      python.child.kill();
    }
    node.close();
    await server.stop(1_000);
  });

  assert.equal(await node.join(), `Welcome to the chat, ${NODE_NAME}!`);
  const session = node.openSession();
  const events = session[Symbol.asyncIterator]();
  await session.join("lobby");
  await nextMatching(events, (e) => e.type === "caught_up", "caught_up");

  // Every message our client sees from here on, to check the whole conversation at the end.
  const seen: ChatLine[] = [];
  // Presence comes on the server's next tick, maybe after messages: record those on the way.
  const nextPresence = (match: (e: SessionEvent) => boolean, what: string) =>
    nextMatching(
      events,
      (e: SessionEvent) => {
        if (e.type === "message") seen.push(e.message);
        return match(e);
      },
      what,
      WAIT_MS,
    );
  const nextMessage = async (match: (m: ChatLine) => boolean, what: string) => {
    const earlier = seen.find(match);
    if (earlier) return earlier;
    const event = await nextMatching(
      events,
      (e: SessionEvent) => {
        if (e.type !== "message") return false;
        seen.push(e.message);
        return match(e.message);
      },
      what,
      WAIT_MS,
    );
    assert.equal(event.type, "message");
    return event.message;
  };

  const child = spawnLines(PYTHON, [
    SEED_CLIENT,
    "--address",
    server.address,
    "--name",
    PY_NAME,
    "--send",
    FROM_PY,
    "--expect",
    FROM_NODE,
    ...BATCH.flatMap((text) => ["--batch", text]),
    "--history-limit",
    "10",
    "--timeout",
    String(WAIT_MS / 1000),
  ]);
  python = child;

  const start = await stepLine(child, "start");
  const pyUserId = start.user_id as string;
  assert.match(pyUserId, /^[0-9a-f-]{36}$/, "the seed client makes a UUID user_id");

  const joined = await stepLine(child, "join");
  assert.deepEqual(joined, {
    step: "join",
    success: true,
    message: `Welcome to the chat, ${PY_NAME}!`,
  });

  // Opening ChatStream announces the join (presence, not a message); the empty hello is not relayed.
  await nextPresence(isPresence(PY_NAME), `${PY_NAME}'s join`);
  const fromPy = await nextMessage((m) => m.text === FROM_PY, "the Python client's message");
  // Others see the seed client's public id, never the UUID it sends as its credential.
  const pyPublic = fromPy.userId;
  assert.notEqual(pyPublic, pyUserId);
  assert.match(pyPublic, /^g-/);
  const nodePublic = (await node.whoAmI()).userId;
  assert.deepEqual(brief(fromPy), {
    userId: pyPublic,
    username: PY_NAME,
    text: FROM_PY,
    system: false,
  });

  await within(session.send(FROM_NODE), WAIT_MS, "the ack of our message");
  const received = await stepLine(child, "received");
  assert.equal(received.user_id, nodePublic);
  assert.equal(received.username, NODE_NAME);
  assert.equal(received.message, FROM_NODE);
  assert.match(received.timestamp as string, SEED_TIME);

  for (const text of BATCH) {
    const m = await nextMessage((line) => line.text === text, `batch message "${text}"`);
    assert.deepEqual(brief(m), { userId: pyPublic, username: PY_NAME, text, system: false });
  }
  const batch = await stepLine(child, "batch");
  assert.deepEqual(batch, {
    step: "batch",
    success: true,
    message_count: BATCH.length,
    summary: `Successfully processed ${BATCH.length} messages from ${PY_NAME}`,
  });

  const code = await within(child.exited, WAIT_MS * 2, "the Python client to exit");
  assert.equal(
    code,
    0,
    `the Python client failed; stdout:\n${child.lines.join("\n")}\nstderr:\n${child.stderr()}`,
  );
  await nextPresence(isPresence(PY_NAME, false), `${PY_NAME}'s leave`);

  // Our client saw exactly the Python user's side of the chat, once each.
  const pySide = (text: string) => ({ userId: pyPublic, username: PY_NAME, text, system: false });
  assert.deepEqual(seen.map(brief), [pySide(FROM_PY), ...BATCH.map(pySide)]);

  // The histories the Python client read: newest first; presence is not history.
  const histories = stepLines(child, "history");
  assert.equal(histories.length, 2);
  const [first, last] = histories.map((h) => h.messages as SeedMessage[]) as [
    SeedMessage[],
    SeedMessage[],
  ];
  assert.deepEqual(first.map(briefSeed), []);
  const pySeed = (message: string) => ({ user_id: pyPublic, username: PY_NAME, message });
  assert.deepEqual(last.map(briefSeed), [
    ...BATCH.map(pySeed).reverse(),
    { user_id: nodePublic, username: NODE_NAME, message: FROM_NODE },
    pySeed(FROM_PY),
  ]);
  for (const m of [...first, ...last]) assert.match(m.timestamp, SEED_TIME);

  const [ping] = stepLines(child, "ping");
  assert.ok(ping, "the Python client pinged");
  assert.equal(ping.success, true);
  assert.match(ping.message as string, /^PONG/);

  // The Python client's stream ended cleanly, and by its own logic (it skips
  // lines whose user_id is its own) it heard only our message: never its
  // own, its batch, an empty hello or its own join.
  const [left] = stepLines(child, "left");
  assert.ok(left, "the Python client left");
  assert.equal(left.code, "OK");
  // (Our client's own join may reach it, if the server's presence tick fell after its stream opened.)
  const heard = (left.received as SeedMessage[]).filter(
    (m) => m.message !== `${NODE_NAME} has joined the chat`,
  );
  assert.deepEqual(heard.map(briefSeed), [
    { user_id: nodePublic, username: NODE_NAME, message: FROM_NODE },
  ]);
  assert.equal(stepLines(child, "done").length, 1);

  session.close();
  assert.equal(await within(session.ended, WAIT_MS, "our session to end"), undefined);
});
