// The HTTP client of bots' outgoing hooks. Whoever has an account may make a
// bot and choose its URL, so by default no hook reaches this machine or its
// private network (loopback, RFC 1918, link-local such as cloud metadata,
// and their IPv6 counterparts): the address is checked as the connection is
// made, so a name that resolves differently later cannot slip past.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import type { HookPoster, HookResponse } from "../core/outgoing-hooks.ts";

/** A receiver that has not answered in this long has failed this attempt. */
const HOOK_TIMEOUT_MS = 10_000;
/** Only a reply's `text` is used; more than this is not read. */
const MAX_REPLY_BYTES = 64 * 1024;

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  PRIVATE.addSubnet(net, bits, "ipv6");
}

/** Whether `address` (an IP) is this machine's or a private network's. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && PRIVATE.check(address, family === 6 ? "ipv6" : "ipv4");
}

function refusal(address: string): Error {
  return new Error(
    `${address} is a loopback or private address, which outgoing hooks may not reach on this server (--outgoing-hooks-private on allows it)`,
  );
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup that fails for private addresses, for the connection itself to use. */
function publicLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) return callback(refusal(blocked.address), []);
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    if (!first) return callback(new Error(`${hostname} has no address`), []);
    callback(null, first.address, first.family);
  });
}

/** POSTs a hook's request; `allowPrivate` lets it reach this machine and private networks. */
export function hookPoster(allowPrivate: boolean): HookPoster {
  return (url, body, headers) =>
    new Promise<HookResponse>((resolve, reject) => {
      const target = new URL(url);
      const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
      if (!allowPrivate && isPrivateAddress(host)) return reject(refusal(host));
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const request = send(
        target,
        {
          method: "POST",
          headers: {
            ...headers,
            "content-length": Buffer.byteLength(body),
            "user-agent": "grpc-chat-hooks",
          },
          timeout: HOOK_TIMEOUT_MS,
          ...(allowPrivate ? {} : { lookup: publicLookup }),
        },
        (response) => readReply(response).then(resolve, reject),
      );
      request.on("timeout", () =>
        request.destroy(new Error(`no answer within ${HOOK_TIMEOUT_MS / 1000} s`)),
      );
      request.on("error", reject);
      request.end(body);
    });
}

/** The status, and the first 64 KiB of the body; redirects are answers like any other. */
async function readReply(response: IncomingMessage): Promise<HookResponse> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_REPLY_BYTES) chunks.push(chunk);
    size += chunk.byteLength;
  }
  return {
    status: response.statusCode ?? 0,
    contentType: String(response.headers["content-type"] ?? ""),
    body: Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES).toString("utf8"),
  };
}
