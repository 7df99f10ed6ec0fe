import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { ChatClientError } from "../src/client/chat-client.ts";
import { ChatError } from "../src/core/chat-error.ts";
import { checkUsername, nameKey } from "../src/core/names.ts";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { liveUser, startTestServer, testClient, within } from "./helpers.ts";
import { type SeedChatMessage, SeedClient, seedUser, streamReader } from "./seed-client.ts";

/** The issue's names: each looks like a plain one, with an invisible character inside. */
const ISSUE_NAMES = {
  system: "Sys\u17b4tem",
  bob: "bo\u17b4b",
  carol: "ca\u17b4rol",
} as const;

/** The other invisible characters the issue found accepted, one per kind. */
const OTHER_INVISIBLES = [
  ["U+034F", "\u034f", "combining grapheme joiner"],
  ["U+FE0F", "\ufe0f", "emoji variation selector"],
  ["U+E0100", "\u{e0100}", "variation selector 17"],
  ["U+180B", "\u180b", "Mongolian free variation selector"],
] as const;

const INVISIBLE_SENTENCE = /cannot contain invisible characters \(here U\+[0-9A-F]{4,6}\)/;
const LONE_MARK_SENTENCE = /standing alone, with no letter to sit on/;

/** Names people have, in scripts whose letters carry marks the comparison ignores. */
const LEGITIMATE = [
  "José",
  "Zoë",
  "Nguyễn Văn An",
  "Łukasz",
  "李小龙",
  "김민준",
  "अनिल",
  "สมศักดิ์",
  "مُحَمَّد",
  "שָׁלוֹם",
  "Αλέξανδρος",
  "n\u0308", // a mark on a letter with no precomposed form
  "heart❤",
  "👍🏽",
  "🇫🇷",
  "O'Brien",
  "Jean-Luc",
];

function refusedInvalid(says: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ChatError, String(error));
    assert.equal(error.code, "invalid_argument");
    assert.match(error.message, says);
    return true;
  };
}

function codePoints(from: number, to: number): string[] {
  const chars: string[] = [];
  for (let cp = from; cp <= to; cp++) {
    if (cp < 0xd800 || cp > 0xdfff) chars.push(String.fromCodePoint(cp));
  }
  return chars;
}

const EVERY_CHAR = codePoints(0, 0x10ffff);

describe("checkUsername: invisible characters and characters the comparison drops", () => {
  test("the issue's names are refused, saying which character is invisible", () => {
    for (const name of Object.values(ISSUE_NAMES)) {
      assert.throws(() => checkUsername(name, 32), refusedInvalid(/here U\+17B4/));
    }
  });

  test("U+034F, U+FE0F, U+E0100 and U+180B are refused, inside a name and at its ends", () => {
    for (const [code, char] of OTHER_INVISIBLES) {
      for (const name of [`a${char}b`, `ab${char}`, `${char}ab`]) {
        assert.throws(
          () => checkUsername(name, 32),
          refusedInvalid(new RegExp(`here ${code.replace("+", "\\+")}`)),
        );
      }
    }
    assert.throws(() => checkUsername("heart❤\ufe0f", 32), refusedInvalid(/variation selectors/));
  });

  test("every Default_Ignorable_Code_Point is refused", () => {
    const ignorable = EVERY_CHAR.filter((c) => /\p{Default_Ignorable_Code_Point}/u.test(c));
    assert.ok(ignorable.length > 4000, "the property covers the tag and selector blocks");
    for (const c of ignorable) {
      assert.throws(() => checkUsername(`bo${c}b`, 32), ChatError, `U+${c.codePointAt(0)}`);
    }
  });

  test("every character the comparison folds to nothing is refused where no letter carries it", () => {
    const vanishing = EVERY_CHAR.filter((c) => !/\s/u.test(c) && nameKey(c) === "");
    assert.ok(vanishing.length > 1000);
    for (const c of vanishing) {
      for (const name of [c, `x ${c}`, `${c}x`]) {
        assert.throws(
          () => checkUsername(name, 32),
          ChatError,
          `${JSON.stringify(name)} (U+${c.codePointAt(0)?.toString(16)})`,
        );
      }
    }
  });

  test("a lone mark is refused in a sentence that shows it on a dotted circle", () => {
    for (const [name, shown] of [
      ["¨", "◌̈ (U+0308)"],
      ["‾bob", "◌̅ (U+0305)"],
      ["\u0301bob", "◌́ (U+0301)"],
      ["bo \u0308b", "◌̈ (U+0308)"],
    ] as const) {
      assert.throws(
        () => checkUsername(name, 32),
        (error: unknown) => {
          refusedInvalid(LONE_MARK_SENTENCE)(error);
          assert.ok((error as Error).message.includes(shown), (error as Error).message);
          return true;
        },
      );
    }
  });

  test("names with accents, vowel signs, CJK and emoji without a selector still pass", () => {
    for (const name of LEGITIMATE) {
      assert.equal(checkUsername(name, 32), name.normalize("NFKC"));
      // Every user-perceived character leaves something in the comparison key.
      const graphemes = new Intl.Segmenter("en", { granularity: "grapheme" }).segment(name);
      for (const { segment } of graphemes) {
        if (segment !== " ") assert.notEqual(nameKey(segment), "", `${name}: ${segment}`);
      }
    }
  });
});

/** Asserts a gRPC failure is INVALID_ARGUMENT with a sentence matching `says`. */
function invalidStatus(says: RegExp) {
  return (error: unknown) => {
    const e = ChatClientError.from(error);
    assert.equal(e.code, status.INVALID_ARGUMENT, `${status[e.code]}: ${e.message}`);
    assert.match(e.message, says);
    assert.ok(e.message.length < 300, "a sentence, not an echo of the input");
    return true;
  };
}

describe("invisible characters in names, through the server", () => {
  let server: RunningChatServer;
  before(async () => {
    server = await startTestServer({ passwordCost: 10 });
  });
  after(() => server.stop());

  /** The seed's JoinChat, as its own client sends it. */
  const seedJoin = async (username: string) => {
    const client = new SeedClient(server.address, randomUUID(), username);
    try {
      await client.joinChat();
    } finally {
      client.close();
    }
  };

  /** The seed's ChatStream with no JoinChat first: the name comes in the first message. */
  const seedStreamEnd = async (username: string) => {
    const secret = randomUUID();
    const client = new SeedClient(server.address, secret, username);
    try {
      const call = client.chatStream();
      const { finished } = streamReader<SeedChatMessage>(call);
      call.write({ user_id: secret, username, message: "hello", timestamp: "" });
      return await within(finished, 5_000, "the seed stream to end");
    } finally {
      client.close();
    }
  };

  /** The seed's SendMessages with no JoinChat first: the name comes in the messages. */
  const seedBatch = async (username: string) => {
    const secret = randomUUID();
    const client = new SeedClient(server.address, secret, username);
    const metadata = new Metadata();
    metadata.set("user_id", secret);
    try {
      await client.sendMessages([{ user_id: secret, username, message: "hi" }], metadata);
    } finally {
      client.close();
    }
  };

  /** Our JoinChat, Session hello and Subscribe, each as a guest asking for `username`. */
  const ourGuestPaths = async (username: string, says: RegExp) => {
    const joiner = testClient(server, { username });
    await assert.rejects(joiner.join(), invalidStatus(says));
    joiner.close();
    const hello = testClient(server, { username });
    const session = hello.openSession();
    assert.ok(invalidStatus(says)(await within(session.ended, 5_000, "the session to end")));
    hello.close();
    const subscriber = testClient(server, { username });
    const subscription = subscriber.subscribe([{ room: "lobby" }]);
    assert.ok(invalidStatus(says)(await within(subscription.ended, 5_000, "Subscribe to end")));
    subscriber.close();
  };

  /** Every way a name is set, each refused with INVALID_ARGUMENT and `says`. */
  const refusedEverywhere = async (username: string, says: RegExp) => {
    await assert.rejects(seedJoin(username), invalidStatus(says));
    assert.ok(invalidStatus(says)(await seedStreamEnd(username)));
    await assert.rejects(seedBatch(username), invalidStatus(says));
    await ourGuestPaths(username, says);
    const registrant = testClient(server);
    await assert.rejects(registrant.register(username, "a long password"), invalidStatus(says));
    registrant.close();
  };

  test("Sys\\u17b4tem is refused as a guest name and on Register, as invisible, not as reserved", async () => {
    await refusedEverywhere(ISSUE_NAMES.system, INVISIBLE_SENTENCE);
  });

  test("bo\\u17b4b is refused as invisible, not as taken, while bob is online", async () => {
    const bob = await seedUser(server, "bob");
    try {
      await refusedEverywhere(ISSUE_NAMES.bob, INVISIBLE_SENTENCE);
      // Plain "bob" is taken, which shows bob was online throughout.
      await assert.rejects(seedJoin("bob"), (e: ServiceError) => e.code === status.ALREADY_EXISTS);
    } finally {
      bob.call.end();
      bob.client.close();
    }
  });

  test("ca\\u17b4rol is refused beside a registered carol, and does not log in as her", async () => {
    const carol = testClient(server);
    const login = await carol.register("carol", "carol's password");
    try {
      await refusedEverywhere(ISSUE_NAMES.carol, INVISIBLE_SENTENCE);
      const impostor = testClient(server);
      await assert.rejects(impostor.login(ISSUE_NAMES.carol, "carol's password"), (e: unknown) => {
        return ChatClientError.from(e).code === status.UNAUTHENTICATED;
      });
      impostor.close();
      assert.match(login.userId, /^a-/);
    } finally {
      carol.close();
    }
  });

  for (const [code, char, what] of OTHER_INVISIBLES) {
    test(`${code} (${what}) is refused on the seed's JoinChat and on Register`, async () => {
      const says = new RegExp(`here ${code.replace("+", "\\+")}`);
      await assert.rejects(seedJoin(`dan${char}a`), invalidStatus(says));
      const registrant = testClient(server);
      await assert.rejects(
        registrant.register(`dan${char}a`, "a long password"),
        invalidStatus(says),
      );
      registrant.close();
    });
  }

  test("a mark with no letter under it is refused, on JoinChat and on Register", async () => {
    await assert.rejects(seedJoin("eve‾"), invalidStatus(LONE_MARK_SENTENCE));
    const registrant = testClient(server);
    await assert.rejects(
      registrant.register("¨eve", "a long password"),
      invalidStatus(LONE_MARK_SENTENCE),
    );
    registrant.close();
  });

  test("names with accents, vowel signs and emoji without a selector still chat", async () => {
    for (const name of ["Zoë ❤", "अनिल", "สมศักดิ์"]) {
      const user = await liveUser(server, name);
      assert.equal(user.client.username, name);
      user.client.close();
    }
    const registrant = testClient(server);
    assert.match((await registrant.register("Nguyễn", "a long password")).userId, /^a-/);
    registrant.close();
  });
});
