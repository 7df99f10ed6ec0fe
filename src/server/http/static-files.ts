import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

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

/**
 * Serves the built web client's files (GET and HEAD), `/` as index.html.
 * Nothing outside `root` is ever read; file names have no hashes, so the
 * browser revalidates each time (the files are small and served locally).
 */
export async function serveStatic(root: string, request: Request, response: Response) {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    sendText(response, 405, "Only GET and HEAD are served here.");
    return;
  }
  const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
  const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
  if (!file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) {
    sendText(response, 404, "Not found.");
    return;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    const missingClient = path === "/";
    sendText(
      response,
      404,
      missingClient
        ? "The web client is not built: run `npm run build:web` (npm start does it for you)."
        : "Not found.",
    );
    return;
  }
  head(response, 200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": "no-cache",
  });
  if (request.method === "HEAD") response.end();
  else createReadStream(file).pipe(response as NodeJS.WritableStream);
}
