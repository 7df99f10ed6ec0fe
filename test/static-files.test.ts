// The web client's files as the build leaves them (content-hashed names,
// .br and .gz beside each) and as the HTTP port serves them: the coding the
// client takes, immutable caching for hashed names, and index.html revalidated.
// `npm test` builds web/dist first (npm run build:web).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:http2";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { hashedName, isHashedName } from "../src/server/http/asset-names.ts";
import { DEFAULT_WEB_ROOT } from "../src/server/http/static-files.ts";
import { startTestServer, tempDir, within } from "./helpers.ts";
import { testCertificate } from "./test-certificate.ts";

const built = (name: string) => readFileSync(join(DEFAULT_WEB_ROOT, name));
const page = () => built("index.html").toString();

/** The hashed name index.html gives an asset built from `source` (`app.js`). */
function assetName(source: string): string {
  const [stem, extension] = source.split(".");
  const found = new RegExp(`"(${stem}\\.[0-9a-f]+\\.${extension})"`).exec(page());
  assert.ok(found?.[1], `index.html names a hashed ${source}`);
  return found[1];
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** A request as a browser's, but nothing decoded for us: the bytes as they came. */
function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const answer = new Promise<Answer>((resolve, reject) => {
    const sent = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
        }),
      );
    });
    sent.on("error", reject);
    sent.end();
  });
  return within(answer, 5_000, `${method} ${url}`);
}

const decoded = (answer: Answer) => {
  const coding = answer.headers["content-encoding"];
  if (coding === "br") return brotliDecompressSync(answer.body);
  if (coding === "gzip") return gunzipSync(answer.body);
  assert.equal(coding, undefined);
  return answer.body;
};

describe("the web client's files", () => {
  let server: RunningChatServer;
  let url: string;
  before(async () => {
    assert.ok(
      existsSync(join(DEFAULT_WEB_ROOT, "index.html")),
      "web/dist is built (npm run build:web)",
    );
    server = await startTestServer({ httpPort: 0 });
    url = server.httpUrl ?? "";
  });
  after(() => server.stop());

  test("the build names each asset by its content and precompresses every file", () => {
    const script = assetName("app.js");
    const assets = [script, assetName("styles.css"), assetName("favicon.svg")];
    const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(built(script).toString())?.[1] ?? "";
    assert.match(map, /^app\.[0-9a-f]+\.js\.map$/);
    assets.push(map);
    for (const name of assets) {
      assert.ok(isHashedName(name), name);
      const source = name.replace(/\.[0-9a-f]+\./, ".");
      assert.equal(hashedName(source, built(name)), name, `${name} is named by its bytes`);
    }
    for (const name of [...assets, "index.html"]) {
      const content = built(name);
      assert.deepEqual(brotliDecompressSync(built(`${name}.br`)), content, `${name}.br`);
      assert.deepEqual(gunzipSync(built(`${name}.gz`)), content, `${name}.gz`);
    }
    for (const unhashed of ["app.js", "styles.css", "favicon.svg", "app.js.map"]) {
      assert.ok(!existsSync(join(DEFAULT_WEB_ROOT, unhashed)), `no ${unhashed}`);
    }
  });

  test("each is sent in the coding the client prefers, of those it takes", async () => {
    const script = assetName("app.js");
    const identity = built(script);
    const cases: Array<[string | undefined, string | undefined]> = [
      ["gzip, deflate, br, zstd", "br"],
      ["br", "br"],
      ["gzip", "gzip"],
      ["*", "br"],
      ["br;q=0, gzip", "gzip"],
      ["gzip;q=1.0, br;q=0.5", "gzip"],
      ["br;q=0, gzip;q=0", undefined],
      ["*;q=0", undefined],
      ["identity", undefined],
      ["identity, gzip;q=0.5", undefined],
      ["deflate, zstd", undefined],
      ["", undefined],
      [undefined, undefined],
    ];
    for (const [acceptEncoding, expected] of cases) {
      const headers: Record<string, string> =
        acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding };
      const answer = await get(`${url}${script}`, headers);
      const what = `Accept-Encoding: ${acceptEncoding}`;
      assert.equal(answer.status, 200, what);
      assert.equal(answer.headers["content-encoding"], expected, what);
      assert.equal(answer.headers["content-length"], String(answer.body.length), what);
      assert.equal(answer.headers.vary, "accept-encoding", what);
      assert.equal(answer.headers["content-type"], "text/javascript; charset=utf-8", what);
      assert.equal(answer.headers["cache-control"], "public, max-age=31536000, immutable", what);
      assert.deepEqual(decoded(answer), identity, what);
    }
    const compressed = await get(`${url}${script}`, { "accept-encoding": "br" });
    assert.ok(compressed.body.length < identity.length / 3, "br is much smaller");
  });

  test("HEAD gives GET's headers and no body", async () => {
    const script = `${url}${assetName("app.js")}`;
    for (const acceptEncoding of ["br", "gzip", "identity"]) {
      const headers = { "accept-encoding": acceptEncoding };
      const [whole, head] = [await get(script, headers), await get(script, headers, "HEAD")];
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ["content-length", "content-encoding", "etag", "cache-control"]) {
        assert.equal(head.headers[name], whole.headers[name], `${acceptEncoding}: ${name}`);
      }
    }
  });

  test("index.html is revalidated, and a revalidation of the same copy is 304", async () => {
    for (const acceptEncoding of ["br", "identity"]) {
      const first = await get(url, { "accept-encoding": acceptEncoding });
      assert.equal(first.status, 200);
      assert.equal(first.headers["cache-control"], "no-cache");
      assert.equal(decoded(first).toString(), page());
      const etag = String(first.headers.etag);
      assert.match(etag, /^".+"$/);
      const same = await get(url, { "accept-encoding": acceptEncoding, "if-none-match": etag });
      assert.equal(same.status, 304, acceptEncoding);
      assert.equal(same.body.length, 0);
      assert.equal(same.headers.etag, etag);
      const weak = await get(`${url}index.html`, {
        "accept-encoding": acceptEncoding,
        "if-none-match": `"other", W/${etag}`,
      });
      assert.equal(weak.status, 304);
      const since = await get(url, {
        "accept-encoding": acceptEncoding,
        "if-modified-since": String(first.headers["last-modified"]),
      });
      assert.equal(since.status, 304);
      const older = await get(url, {
        "accept-encoding": acceptEncoding,
        "if-modified-since": new Date(0).toUTCString(),
      });
      assert.equal(older.status, 200);
    }
    // Each coding is its own representation: an identity copy does not stand for br.
    const plain = await get(url, { "accept-encoding": "identity" });
    const br = await get(url, {
      "accept-encoding": "br",
      "if-none-match": String(plain.headers.etag),
    });
    assert.equal(br.status, 200);
    assert.equal(br.headers["content-encoding"], "br");
  });

  test("each asset the page names is served with its type", async () => {
    for (const [source, type] of [
      ["styles.css", "text/css; charset=utf-8"],
      ["favicon.svg", "image/svg+xml"],
    ] as const) {
      const answer = await get(`${url}${assetName(source)}`, { "accept-encoding": "gzip" });
      assert.equal(answer.status, 200, source);
      assert.equal(answer.headers["content-type"], type);
      assert.equal(answer.headers["content-encoding"], "gzip");
      assert.equal(answer.headers["cache-control"], "public, max-age=31536000, immutable");
    }
    const old = await get(`${url}app.js`);
    assert.equal(old.status, 404);
  });
});

test("over HTTP/2 the same coding, length and caching", async () => {
  const dir = tempDir();
  const tls = testCertificate(dir.path);
  const server = await startTestServer({ httpPort: 0, tls });
  const session = connect(server.httpUrl ?? "", { ca: tls.cert });
  try {
    const script = assetName("app.js");
    const stream = session.request({ ":path": `/${script}`, "accept-encoding": "gzip, br" });
    const answer = await within(
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        let headers: Record<string, unknown> = {};
        const chunks: Buffer[] = [];
        stream.on("response", (received) => {
          headers = received;
        });
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => resolve({ headers, body: Buffer.concat(chunks) }));
        stream.on("error", reject);
      }),
      5_000,
      "app.js over HTTP/2",
    );
    assert.equal(answer.headers[":status"], 200);
    assert.equal(answer.headers["content-encoding"], "br");
    assert.equal(answer.headers["content-length"], String(answer.body.length));
    assert.equal(answer.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.deepEqual(brotliDecompressSync(answer.body), built(script));
  } finally {
    session.close();
    await server.stop();
    dir.remove();
  }
});
