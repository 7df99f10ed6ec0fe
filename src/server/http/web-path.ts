/** The file a request target names under the web root, as path segments; or why it names none. */
export type WebPath =
  | { readonly segments: readonly string[] }
  | { readonly status: 400 | 404; readonly reason: string };

const NOT_FOUND = { status: 404, reason: "Not found." } as const;

// Every name the build writes is plain ASCII, so a name of anything else is
// answered 404 without asking the file system: `..`, `.`, an empty segment,
// a backslash or NUL can never reach a path join, however they were spelt.
const SAFE_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The segments a request target names (`/` is `index.html`), decoded
 * strictly: a `%` without two hex digits after it is the client's mistake
 * (400); bytes that are not UTF-8 (overlong forms, surrogates) name no file
 * (404). The target is never given to `URL`, which reads `//[` as a host.
 */
export function webPathOf(target: string): WebPath {
  let path = target.split(/[?#]/, 1)[0] ?? "";
  if (!path.startsWith("/")) {
    // The absolute form (`GET http://host/app.js`), which HTTP/1.1 servers must accept.
    if (!/^https?:\/\//i.test(path)) {
      return { status: 400, reason: "The request target must be a path starting with /." };
    }
    try {
      path = new URL(path).pathname;
    } catch {
      return { status: 400, reason: "The request target is not a URL." };
    }
  }
  const bytes = percentDecoded(path);
  if (bytes === undefined) {
    return {
      status: 400,
      reason:
        "The request path has a malformed percent-escape: each % needs two hex digits after it.",
    };
  }
  let decoded: string;
  try {
    decoded = strictUtf8.decode(bytes);
  } catch {
    return NOT_FOUND;
  }
  const segments = decoded.split("/").slice(1);
  if (segments.at(-1) === "") segments[segments.length - 1] = "index.html";
  return segments.every((segment) => SAFE_SEGMENT.test(segment)) ? { segments } : NOT_FOUND;
}

const encoder = new TextEncoder();

/** `%xx` escapes to bytes, the rest as UTF-8; undefined when an escape is malformed. */
function percentDecoded(path: string): Uint8Array | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return undefined;
  // split() with a group: the hex digits of each escape sit at the odd indices.
  const parts = path.split(/%([0-9A-Fa-f]{2})/);
  return Buffer.concat(
    parts.map((part, i) =>
      i % 2 ? Uint8Array.of(Number.parseInt(part, 16)) : encoder.encode(part),
    ),
  );
}
