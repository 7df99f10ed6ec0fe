// Per-RPC metrics in the grpc-ecosystem's names, on both transports, and
// every metric of ours passing Prometheus's own linter (promtool, from
// Debian's prometheus package) on a real scrape.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { isCaughtUp, liveUser, nextMatching } from "./helpers.ts";
import { type AnyClient, onEveryTransport } from "./http-clients.ts";

const on = onEveryTransport();

async function scrape(): Promise<string> {
  return (await fetch(new URL("/metrics", on.server.httpUrl))).text();
}

/** The value of one series, by its labels in any order (0 when absent). */
function value(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf("}"));
    const have = inside.split(/,(?=\w+=)/);
    if (wanted.every((pair) => have.includes(pair)) && have.length === wanted.length) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return 0;
}

const series = (method: string, type: string, transport: string) => ({
  grpc_service: "chat.ChatService",
  grpc_method: method,
  grpc_type: type,
  transport,
});

/** Scrapes until `ready` holds of the text (a stream's end is counted as the server sees it). */
async function scrapeUntil(ready: (text: string) => boolean, what: string): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = await scrape();
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("calls are counted by method, type, code and transport; unary calls are timed", async () => {
  const [native, connect, grpcWeb] = on.clients as [AnyClient, AnyClient, AnyClient];
  await native.unary("ping", {});
  await native.unary("ping", {});
  await connect.unary("ping", {});
  await grpcWeb.unary("history", { room: "lobby", limit: 5000 });
  // A method the table keeps off the HTTP port is counted there as UNIMPLEMENTED.
  const refused = await fetch(new URL("/chat.ChatService/Session", on.server.httpUrl), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(refused.status, 501);
  // A Session its client half-closes ends OK; a Subscribe its client cancels ends Canceled.
  const ann = await liveUser(on.server, "ann");
  await nextMatching(ann.events, isCaughtUp, "ann's caught_up");
  ann.session.close();
  ann.client.close();
  const subscription = native.subscribe({ username: "bea" }, { user_id: "bea's own secret" });
  await subscription.events.next();
  subscription.stop();

  const text = await scrapeUntil(
    (t) =>
      value(t, "grpc_server_handled_total", {
        ...series("Session", "bidi_stream", "grpc"),
        grpc_code: "OK",
      }) === 1 &&
      value(t, "grpc_server_handled_total", {
        ...series("Subscribe", "server_stream", "grpc"),
        grpc_code: "Canceled",
      }) === 1,
    "the Session's end and the Subscribe's cancel to be counted",
  );
  const ping = series("Ping", "unary", "grpc");
  assert.equal(value(text, "grpc_server_started_total", ping), 2);
  assert.equal(value(text, "grpc_server_handled_total", { ...ping, grpc_code: "OK" }), 2);
  assert.equal(value(text, "grpc_server_handling_seconds_count", ping), 2);
  const connectPing = series("Ping", "unary", "http");
  assert.equal(value(text, "grpc_server_handled_total", { ...connectPing, grpc_code: "OK" }), 1);
  assert.equal(
    value(text, "grpc_server_handled_total", {
      ...series("History", "unary", "http"),
      grpc_code: "InvalidArgument",
    }),
    1,
  );
  assert.equal(
    value(text, "grpc_server_started_total", series("Session", "bidi_stream", "grpc")),
    1,
  );
  // Streams are not timed: a live stream's length says nothing about the server.
  assert.equal(
    value(text, "grpc_server_handling_seconds_count", series("Session", "bidi_stream", "grpc")),
    0,
  );
  assert.equal(
    value(text, "grpc_server_handled_total", {
      ...series("Session", "bidi_stream", "http"),
      grpc_code: "Unimplemented",
    }),
    1,
  );
  // JoinChat (liveUser joins first) counted natively.
  assert.equal(
    value(text, "grpc_server_handled_total", {
      ...series("JoinChat", "unary", "grpc"),
      grpc_code: "OK",
    }),
    1,
  );
});

test("promtool finds nothing wrong with any metric of ours", async () => {
  const text = await scrape();
  // Only our families: prom-client's own process metrics follow its naming, not ours.
  const ours = text
    .split(/\n(?=# HELP )/)
    .filter((family) => /^# HELP grpc_(chat|server)_/.test(family))
    .join("\n");
  assert.match(ours, /grpc_server_handled_total/);
  assert.match(ours, /grpc_chat_deliveries_total/);
  const check = spawnSync("promtool", ["check", "metrics"], {
    input: ours.endsWith("\n") ? ours : `${ours}\n`,
    encoding: "utf8",
  });
  assert.equal(check.error, undefined, "promtool runs (Debian's prometheus package)");
  assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
  assert.equal(`${check.stdout}${check.stderr}`.trim(), "");
});
