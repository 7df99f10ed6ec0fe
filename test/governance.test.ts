// Rooms a team governs, through every way in: native gRPC, Connect and
// gRPC-Web make the same calls and get the same answers; the seed's wire is
// held to the same bans and mutes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import { account, type Headers, okOf, onEveryTransport, refusedWith } from "./http-clients.ts";

describe("rooms a team governs, on every transport", () => {
  const on = onEveryTransport();

  test("an invite-only room cannot be probed, lets in whom it invites, and holds mutes and bans", async () => {
    for (const [index, client] of on.clients.entries()) {
      const t = `${index}`;
      const room = `private-${t}`;
      const owner = await account(client, `owner${t}`);
      const guest = await account(client, `guest${t}`);
      const third = await account(client, `third${t}`);
      // The other room a caller may not use: two others' direct messages.
      const idOf = async (headers: Headers) =>
        okOf(await client.unary("whoAmI", {}, headers), "whoAmI").userId;
      const missing = `dm:${[await idOf(owner), await idOf(third)].sort().join(":")}`;
      const created = okOf(
        await client.unary("createRoom", { room, inviteOnly: true, topic: "plans" }, owner),
        `${client.name}: createRoom`,
      );
      assert.equal(created.yourRole, "ROOM_ROLE_OWNER", client.name);
      assert.equal(created.inviteOnly, true);
      okOf(await client.unary("send", { room, text: "secret plans" }, owner), "owner sends");

      // Word for word what a room that does not exist answers, for every call.
      for (const [method, request] of [
        ["getRoom", {}],
        ["history", { limit: 10 }],
        ["send", { text: "let me in" }],
        ["listMembers", {}],
        ["setTopic", { topic: "mine now" }],
      ] as const) {
        const there = refusedWith(
          await client.unary(method, { ...request, room }, guest),
          status.NOT_FOUND,
          `${client.name}: ${method} of a private room by a non-member`,
        );
        const nowhere = refusedWith(
          await client.unary(method, { ...request, room: missing }, guest),
          status.NOT_FOUND,
          `${client.name}: ${method} of others' direct messages`,
        );
        assert.equal(there.replace(room, "ROOM"), nowhere.replace(missing, "ROOM"), method);
      }
      const listed = okOf(await client.unary("listRooms", { pageSize: 1000 }, guest), "listRooms");
      const names = ((listed.rooms ?? []) as { name: string }[]).map((r) => r.name);
      assert.ok(!names.includes(room), `${client.name}: a private room is unlisted to non-members`);

      okOf(await client.unary("invite", { room, user: `guest${t}` }, owner), "invite");
      const page = okOf(await client.unary("history", { room, limit: 10 }, guest), "history");
      assert.deepEqual(
        (page.messages as { text: string }[])
          .map((m) => m.text)
          .filter((text) => text === "secret plans"),
        ["secret plans"],
      );
      const asMember = okOf(
        await client.unary("listRooms", { pageSize: 1000 }, guest),
        "listRooms",
      );
      const mine = (
        (asMember.rooms ?? []) as { name: string; inviteOnly?: boolean; role?: string }[]
      ).find((r) => r.name === room);
      assert.equal(mine?.inviteOnly, true, `${client.name}: listed to its member, marked`);
      assert.equal(mine?.role, "ROOM_ROLE_MEMBER");

      // A member may not moderate.
      refusedWith(
        await client.unary("kick", { room, user: `owner${t}` }, guest),
        status.PERMISSION_DENIED,
        `${client.name}: a member kicks`,
      );
      const ownersOwn = okOf(
        await client.unary("send", { room, text: "the owner's" }, owner),
        "send",
      );
      refusedWith(
        await client.unary("delete", { room, id: (ownersOwn.ack as { id: string }).id }, guest),
        status.PERMISSION_DENIED,
        `${client.name}: a member deletes another's message`,
      );

      okOf(
        await client.unary(
          "mute",
          { room, user: `guest${t}`, durationMs: "3600000", reason: "spam" },
          owner,
        ),
        "mute",
      );
      const sent = okOf(
        await client.unary("send", { room, text: "a message to react to" }, owner),
        "send",
      );
      const { id } = sent.ack as { id: string };
      for (const [method, request] of [
        ["send", { text: "still here" }],
        ["react", { id, emoji: "👍" }],
        ["setTopic", { topic: "muted topic" }],
      ] as const) {
        const why = refusedWith(
          await client.unary(method, { ...request, room }, guest),
          status.PERMISSION_DENIED,
          `${client.name}: ${method} while muted`,
        );
        assert.match(why, /muted in .* until \d{4}-\d\d-\d\d \d\d:\d\d UTC.*Reason: spam/, method);
      }
      okOf(await client.unary("history", { room, limit: 5 }, guest), "a muted member still reads");
      okOf(await client.unary("unmute", { room, user: `guest${t}` }, owner), "unmute");
      okOf(await client.unary("send", { room, text: "back again" }, guest), "send after unmute");
      const unwanted = okOf(await client.unary("send", { room, text: "unwanted" }, guest), "send");
      const unwantedId = (unwanted.ack as { id: string }).id;
      okOf(
        await client.unary("delete", { room, id: unwantedId }, owner),
        "a moderator deletes another's message",
      );

      // Reports reach the queue with the message in context.
      okOf(await client.unary("invite", { room, user: `third${t}` }, owner), "invite third");
      const reported = okOf(
        await client.unary("report", { room, messageId: id, reason: "off topic" }, third),
        "report",
      );
      const queue = okOf(await client.unary("listReports", { room }, owner), "listReports");
      const [report] = queue.reports as {
        id: string;
        reason: string;
        message: { text: string };
        context: { text: string }[];
        reporter: { username: string };
      }[];
      assert.equal(report?.id, reported.reportId);
      assert.equal(report?.reason, "off topic");
      assert.equal(report?.message.text, "a message to react to");
      assert.deepEqual(
        report?.context.map((m) => m.text),
        ["secret plans", "the owner's"],
      );
      assert.equal(report?.reporter.username, `third${t}`);
      refusedWith(
        await client.unary("listReports", { room }, third),
        status.PERMISSION_DENIED,
        "a member reads the queue",
      );
      okOf(
        await client.unary(
          "resolveReport",
          { room, reportId: report?.id, resolution: "talked to them" },
          owner,
        ),
        "resolve",
      );
      const open = okOf(await client.unary("listReports", { room }, owner), "listReports");
      assert.deepEqual(open.reports ?? [], [], "resolved reports leave the open queue");

      okOf(
        await client.unary(
          "ban",
          { room, user: `guest${t}`, reason: "troll", deleteHours: 1 },
          owner,
        ),
        "ban",
      );
      const banned = refusedWith(
        await client.unary("history", { room, limit: 5 }, guest),
        status.PERMISSION_DENIED,
        `${client.name}: history when banned`,
      );
      assert.match(banned, /banned from .* until it is lifted\. Reason: troll/);
      const after = okOf(await client.unary("history", { room, limit: 10 }, owner), "history");
      assert.ok(
        !(after.messages as { text: string }[]).some((m) => m.text === "back again"),
        "the ban erased the banned user's message of the last hour",
      );

      const log = okOf(await client.unary("listAudit", { room }, owner), "listAudit");
      assert.deepEqual(
        (log.entries as { action: string }[]).map((e) => e.action),
        ["ban", "resolve_report", "invite", "delete", "unmute", "mute", "invite"],
        `${client.name}: the audit log, newest first`,
      );
      refusedWith(
        await client.unary("listAudit", { room }, third),
        status.PERMISSION_DENIED,
        "a member reads the audit log",
      );
      refusedWith(
        await client.unary("listAudit", {}, owner),
        status.PERMISSION_DENIED,
        "an owner reads the server's audit log",
      );
    }
  });

  test("a room just created is in its owner's list before anyone writes in it, and a private one in no one else's", async () => {
    for (const [index, client] of on.clients.entries()) {
      const t = `${index}`;
      const owner = await account(client, `maker${t}`);
      const other = await account(client, `passer${t}`);
      okOf(await client.unary("createRoom", { room: `fresh-${t}` }, owner), "createRoom");
      okOf(
        await client.unary("createRoom", { room: `hidden-${t}`, inviteOnly: true }, owner),
        "createRoom",
      );
      const roomsOf = async (headers: Headers) =>
        (
          okOf(await client.unary("listRooms", { pageSize: 1000 }, headers), "listRooms").rooms as {
            name: string;
            role?: string;
          }[]
        ).filter((r) => r.name.endsWith(`-${t}`) && /^(fresh|hidden)-/.test(r.name));
      assert.deepEqual(
        (await roomsOf(owner)).map((r) => [r.name, r.role]),
        [
          [`fresh-${t}`, "ROOM_ROLE_OWNER"],
          [`hidden-${t}`, "ROOM_ROLE_OWNER"],
        ],
        client.name,
      );
      assert.deepEqual(
        (await roomsOf(other)).map((r) => r.name),
        [`fresh-${t}`],
        `${client.name}: the private room is unlisted to others`,
      );
    }
  });
});
