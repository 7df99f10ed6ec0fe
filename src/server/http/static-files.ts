import { createReadStream, type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { extname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { isHashedName } from "./asset-names.ts";
import { CODINGS, type Coding, preferredCoding, SUFFIX } from "./content-coding.ts";
import { webPathOf } from "./web-path.ts";

export type Request = IncomingMessage | Http2ServerRequest;
export type Response = ServerResponse | Http2ServerResponse;

/** The web client as `npm run build:web` leaves it. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL("../../../web/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
};

// A hashed name is a new name for new content, so it may be kept for ever;
// anything else (index.html) is asked about each time, and mostly answered 304.
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

/** Sends plain text: the answer for everything that is not a file or an RPC. */
export function sendText(response: Response, status: number, text: string): void {
  head(response, status, { "content-type": "text/plain; charset=utf-8" });
  response.end(`${text}\n`);
}

/** Status and headers, on an HTTP/1.1 or HTTP/2 response alike. */
export function head(response: Response, status: number, headers: Record<string, string | number>) {
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
}

const fileStats = (path: string) =>
  stat(path).then(
    (info) => (info.isFile() ? info : undefined),
    () => undefined,
  );

/** The file to send for `path`: precompressed when the client takes a coding the build wrote. */
async function representation(path: string, acceptEncoding: string | undefined) {
  const variants = await Promise.all(
    CODINGS.map(async (coding) => ({ coding, info: await fileStats(path + SUFFIX[coding]) })),
  );
  const available = variants.flatMap(({ coding, info }) => (info ? [coding] : []));
  const coding: Coding | undefined = preferredCoding(acceptEncoding, available);
  const chosen = variants.find((variant) => variant.coding === coding)?.info;
  return {
    coding,
    varies: available.length > 0,
    file: coding ? path + SUFFIX[coding] : path,
    chosen,
  };
}

/** Whether the client's copy (If-None-Match, else If-Modified-Since) is this one. */
function isFresh(request: Request, etag: string, info: Stats): boolean {
  const ifNoneMatch = request.headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch
      .split(",")
      .map((tag) => tag.trim().replace(/^W\//, ""))
      .some((tag) => tag === etag || tag === "*");
  }
  const since = Date.parse(request.headers["if-modified-since"] ?? "");
  return Number.isFinite(since) && Math.floor(info.mtimeMs / 1000) * 1000 <= since;
}

/**
 * Serves the built web client's files (GET and HEAD), `/` as index.html,
 * each as the build precompressed it when the client accepts that coding.
 * A path that is not a plain name under `root` is 404 before any file is
 * looked at (web-path.ts). A client that leaves mid-file is logged at debug.
 */
export async function serveStatic(
  root: string,
  request: Request,
  response: Response,
  logger: Logger,
) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    sendText(response, 405, "Only GET and HEAD are served here.");
    return;
  }
  const path = webPathOf(request.url ?? "/");
  if ("status" in path) return sendText(response, path.status, path.reason);
  const name = path.segments.at(-1) ?? "";
  const identity = join(root, ...path.segments);
  const info = await fileStats(identity);
  if (!info) {
    const missingClient = path.segments.join("/") === "index.html";
    return sendText(
      response,
      404,
      missingClient
        ? "The web client is not built: run `npm run build:web` (npm start does it for you)."
        : "Not found.",
    );
  }
  const {
    coding,
    varies,
    file,
    chosen = info,
  } = await representation(identity, request.headers["accept-encoding"]);
  const etag = `"${chosen.size.toString(16)}-${Math.floor(chosen.mtimeMs).toString(16)}${coding ? `-${coding}` : ""}"`;
  const caching: Record<string, string> = {
    "cache-control": isHashedName(name) ? IMMUTABLE : REVALIDATE,
    etag,
    "last-modified": chosen.mtime.toUTCString(),
    ...(varies ? { vary: "accept-encoding" } : {}),
  };
  if (isFresh(request, etag, chosen)) {
    head(response, 304, caching);
    response.end();
    return;
  }
  head(response, 200, {
    ...caching,
    "content-type": TYPES[extname(name)] ?? "application/octet-stream",
    "content-length": chosen.size,
    ...(coding ? { "content-encoding": coding } : {}),
  });
  if (request.method === "HEAD") {
    response.end();
    return;
  }
  const source = createReadStream(file);
  let unreadable = false;
  source.once("error", () => {
    unreadable = true;
  });
  try {
    await pipeline(source, response as NodeJS.WritableStream);
  } catch (error) {
    // A file that cannot be read (removed by a rebuild) is ours; a client that left is theirs.
    if (unreadable) throw error;
    logger.debug({ err: error, url: request.url }, "a client left before its file was sent");
  }
}
