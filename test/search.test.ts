// Search through every way in: what a third user can never find, what the
// owner of a message finds with its highlights, errors in words, and History
// opened around a hit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { status } from "@grpc/grpc-js";
import {
  type AnyClient,
  account,
  type Headers,
  okOf,
  onEveryTransport,
  refusedWith,
} from "./http-clients.ts";

interface Hit {
  message: { room: string; text: string; id: string; username: string };
  highlights?: { start?: number; end?: number }[];
}

describe("search, on every transport", () => {
  const on = onEveryTransport();

  const search = async (client: AnyClient, headers: Headers, request: Record<string, unknown>) =>
    (okOf(await client.unary("search", request, headers), `${client.name}: search`).hits ??
      []) as Hit[];

  test("a third user never finds a direct message or a private room's message, by any query", async () => {
    for (const [index, client] of on.clients.entries()) {
      const t = `${index}`;
      const ann = await account(client, `ann${t}`);
      const bob = await account(client, `bob${t}`);
      const eve = await account(client, `eve${t}`);
      const dm = String(
        okOf(await client.unary("openDirect", { username: `bob${t}` }, ann), "dm").room,
      );
      okOf(
        await client.unary("createRoom", { room: `vault${t}`, inviteOnly: true }, ann),
        "createRoom",
      );
      okOf(await client.unary("invite", { room: `vault${t}`, user: `bob${t}` }, ann), "invite");
      const secret = `zebra${t} secret.plan https://x.example/vault${t}`;
      for (const room of [dm, `vault${t}`]) {
        okOf(await client.unary("send", { room, text: `${secret} in ${room}` }, ann), "send");
      }
      okOf(
        await client.unary("send", { room: `open${t}`, text: `${secret} in the open` }, ann),
        "send",
      );
      for (const query of [
        `zebra${t}`,
        `zeb`,
        "secret.plan",
        `/vault${t}`,
        `from:ann${t}`,
        "has:link",
        `zebra${t} in:@bob${t}`,
        `"secret plan"`,
      ]) {
        const found = (await search(client, eve, { query })).map((h) => h.message.room);
        assert.ok(
          !found.includes(dm) && !found.includes(`vault${t}`),
          `${client.name}: eve searched ${query} and found ${found.join(", ")}`,
        );
      }
      // Naming the room does not open it: the same answer as a room with no hits.
      assert.deepEqual(await search(client, eve, { query: `zebra${t}`, room: `vault${t}` }), []);
      // Its members find all three, newest first.
      const bobs = await search(client, bob, { query: `zebra${t}` });
      assert.deepEqual(
        bobs.map((h) => h.message.room),
        [`open${t}`, `vault${t}`, dm],
        client.name,
      );
      // Kicked from the private room, bob no longer finds its messages; the
      // public room he was never in stays findable.
      okOf(await client.unary("kick", { room: `vault${t}`, user: `bob${t}` }, ann), "kick");
      assert.deepEqual(
        (await search(client, bob, { query: `zebra${t}` })).map((h) => h.message.room),
        [`open${t}`, dm],
      );
    }
  });

  test("a hit carries its message as it is now, with highlighted ranges in code points", async () => {
    for (const [index, client] of on.clients.entries()) {
      const t = `${index}`;
      const ann = await account(client, `hana${t}`);
      const room = `cafe${t}`;
      const sent = okOf(
        await client.unary("send", { room, text: `🍕 Le CAFÉ ${t} opens, see menu.pdf` }, ann),
        "send",
      );
      const id = (sent.ack as { id: string }).id;
      okOf(
        await client.unary(
          "edit",
          { room, id, text: `🍕 Le CAFÉ ${t} is open, see menu.pdf` },
          ann,
        ),
        "edit",
      );
      const [hit, ...rest] = await search(client, ann, { query: `cafe menu.pdf in:#${room}` });
      assert.equal(rest.length, 0, client.name);
      assert.equal(hit?.message.text, `🍕 Le CAFÉ ${t} is open, see menu.pdf`);
      assert.equal(String(hit?.message.id), String(id));
      const text = [...(hit?.message.text ?? "")];
      assert.deepEqual(
        (hit?.highlights ?? []).map((r) => text.slice(r.start ?? 0, r.end ?? 0).join("")),
        ["CAFÉ", "menu.pdf"],
      );
      assert.deepEqual(await search(client, ann, { query: "opens", room }), []);
    }
  });

  test("a query that cannot be parsed, or says nothing, is refused with a sentence", async () => {
    for (const [index, client] of on.clients.entries()) {
      const ann = await account(client, `quinn${index}`);
      for (const [query, words] of [
        ['"unclosed', /not closed/],
        ["before:someday", /before: needs a date/],
        ["", /Give words to search for/],
        ["🍕", /Give words to search for/],
      ] as const) {
        const message = refusedWith(
          await client.unary("search", { query }, ann),
          status.INVALID_ARGUMENT,
          `${client.name}: ${query}`,
        );
        assert.match(message, words);
      }
    }
  });

  test("pages follow one another by token, and History opens the page around a hit", async () => {
    const [client] = on.clients;
    assert.ok(client);
    const ann = await account(client, "paula");
    const ids: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const sent = okOf(
        await client.unary(
          "send",
          { room: "pages", text: `entry number${i % 3 === 0 ? " tick" : ""} ${i}` },
          ann,
        ),
        "send",
      );
      ids.push(String((sent.ack as { id: string }).id));
    }
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = okOf(
        await client.unary("search", { query: "tick", room: "pages", limit: 4, pageToken }, ann),
        "search",
      );
      seen.push(...((page.hits ?? []) as Hit[]).map((h) => h.message.text));
      pageToken = String(page.nextPageToken ?? "");
    } while (pageToken !== "");
    assert.deepEqual(
      seen,
      [30, 27, 24, 21, 18, 15, 12, 9, 6, 3].map((i) => `entry number tick ${i}`),
    );

    const around = ids[14] ?? "";
    const page = okOf(
      await client.unary("history", { room: "pages", aroundId: around, limit: 10 }, ann),
      "history",
    );
    assert.deepEqual(
      (page.messages as { id: string }[]).map((m) => String(m.id)),
      ids.slice(10, 20),
    );
    assert.equal(page.hasMore, true);
    assert.equal(page.hasNewer, true);
    refusedWith(
      await client.unary("history", { room: "pages", aroundId: "999999", limit: 10 }, ann),
      status.NOT_FOUND,
      "around a message that is not there",
    );
    refusedWith(
      await client.unary("history", { room: "pages", aroundId: around, beforeId: around }, ann),
      status.INVALID_ARGUMENT,
      "around and before together",
    );
  });

  test("searching faster than the server allows is refused, saying when to try again", async () => {
    const [client] = on.clients;
    assert.ok(client);
    const ann = await account(client, "rapid");
    // The burst is 20 and the rate 2 a second: 40 searches at once cannot all pass.
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, () => client.unary("search", { query: "anything" }, ann)),
    );
    const refused = outcomes.filter(
      (o) => (o as { code?: number }).code === status.RESOURCE_EXHAUSTED,
    );
    assert.ok(refused.length >= 1, "no search was refused");
    const first = refused[0] as { message: string; retryAfterMs?: string };
    assert.match(first.message, /searching faster than 120 searches a minute; try again in/);
    assert.ok(Number(first.retryAfterMs) > 0);
  });
});
