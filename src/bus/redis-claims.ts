import { createClient, defineScript } from "redis";
import type { UserId } from "../store/store.ts";
import type { ClusterClaims } from "./bus.ts";

export interface RedisClaimsOptions {
  /** redis://host:port */
  readonly url: string;
  /** Keys start with "<prefix>:". Default "grpc-chat". */
  readonly prefix?: string;
  readonly nodeId: string;
  /** How long a node counts as alive after its last renewal. Default 5,000 ms. */
  readonly leaseMs?: number;
  /** How often the lease is renewed. Default leaseMs / 5. */
  readonly renewMs?: number;
  /** How long to wait for Redis at start-up before going on without it. Default 3,000 ms. */
  readonly startupWaitMs?: number;
}

// Every script reads the time from Redis, so that nodes whose clocks disagree
// still agree on which leases have run out.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// Takes a node out of a name; a name left with no node goes (cjson would
// write its empty list as {}, not []).
const REMOVE = `local function remove(names, field, entry, node)
  local kept = {}
  for _, n in ipairs(entry.n) do
    if n ~= node then table.insert(kept, n) end
  end
  if #kept == 0 then
    redis.call('HDEL', names, field)
  elseif #kept < #entry.n then
    redis.call('HSET', names, field, cjson.encode({u = entry.u, n = kept}))
  end
end
`;

// Names are one hash: field nameKey, value {"u": userId, "n": [nodeIds]}.
// The nodes are the set <prefix>:nodes scored by when their lease runs out.
const scripts = {
  claim: defineScript({
    NUMBER_OF_KEYS: 2,
    SCRIPT: `${NOW}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local nodes = {}
if raw then
  local entry = cjson.decode(raw)
  if entry.u == ARGV[2] then
    nodes = entry.n
  else
    for _, node in ipairs(entry.n) do
      local expiry = redis.call('ZSCORE', KEYS[2], node)
      if expiry and tonumber(expiry) > now then return 0 end
    end
  end
end
for _, node in ipairs(nodes) do
  if node == ARGV[3] then return 1 end
end
table.insert(nodes, ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({u = ARGV[2], n = nodes}))
return 1`,
    parseCommand(
      parser,
      names: string,
      nodes: string,
      nameKey: string,
      userId: string,
      node: string,
    ) {
      parser.pushKeys([names, nodes]);
      parser.push(nameKey, userId, node);
    },
    transformReply: (reply: unknown) => reply === 1,
  }),
  release: defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `${REMOVE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local entry = cjson.decode(raw)
if entry.u == ARGV[2] then remove(KEYS[1], ARGV[1], entry, ARGV[3]) end
return 1`,
    parseCommand(parser, names: string, nameKey: string, userId: string, node: string) {
      parser.pushKey(names);
      parser.push(nameKey, userId, node);
    },
    transformReply: () => undefined,
  }),
  // Renews one lease and names the nodes whose leases have run out.
  renew: defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)`,
    parseCommand(parser, nodes: string, node: string, leaseMs: number) {
      parser.pushKey(nodes);
      parser.push(node, String(leaseMs));
    },
    transformReply: (reply: unknown) => (reply as unknown[]).map(String),
  }),
  // Takes a node out of every name and out of the set: a node leaving, or
  // (unless ARGV[2] is "1") a dead one, checked again here because it may
  // have renewed since it was seen dead.
  drop: defineScript({
    NUMBER_OF_KEYS: 2,
    SCRIPT: `${NOW}${REMOVE}
if ARGV[2] ~= '1' then
  local expiry = redis.call('ZSCORE', KEYS[2], ARGV[1])
  if expiry and tonumber(expiry) > now then return 0 end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  remove(KEYS[1], all[i], cjson.decode(all[i + 1]), ARGV[1])
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1`,
    parseCommand(parser, names: string, nodes: string, node: string, force: boolean) {
      parser.pushKeys([names, nodes]);
      parser.push(node, force ? "1" : "0");
    },
    transformReply: () => undefined,
  }),
  take: defineScript({
    NUMBER_OF_KEYS: 1,
    SCRIPT: `${NOW}
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(burst, tonumber(state[1]) + elapsed * rate / 1000)
end
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = math.ceil((cost - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', now)
-- Once full, a bucket is the same as no bucket: let idle ones vanish.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 100)
return wait`,
    parseCommand(parser, bucket: string, perSecond: number, burst: number, cost: number) {
      parser.pushKey(bucket);
      parser.push(String(perSecond), String(burst), String(cost));
    },
    transformReply: (reply: unknown) => Number(reply),
  }),
};

function createClaimsClient(url: string) {
  return createClient({
    url,
    scripts,
    // Retry for ever, a little slower each time, up to 2 s apart.
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
    // While Redis is away a call fails at once rather than waiting in a queue:
    // the caller falls back to the node's own rules.
    disableOfflineQueue: true,
  });
}

type ClaimsClient = ReturnType<typeof createClaimsClient>;

/**
 * Claims shared by the nodes of one cluster through a single Redis (not
 * Redis Cluster: a script touches several keys). Resolves once this node's
 * lease is registered.
 */
export async function connectRedisClaims(
  options: RedisClaimsOptions,
): Promise<ClusterClaims & { readonly connected: boolean }> {
  const client = createClaimsClient(options.url);
  // Without a listener an error event would crash the process; the failed
  // calls already tell their callers.
  client.on("error", () => {});
  const leaseMs = options.leaseMs ?? 5_000;
  const claims = new RedisClaims(client, options.prefix ?? "grpc-chat", options.nodeId, leaseMs);
  claims.start(options.renewMs ?? leaseMs / 5);
  // Redis down at start-up does not stop the node: calls fail (the node's own
  // rules apply) until it answers, and the lease is registered then.
  const connecting = client.connect().then(() => claims.renew());
  connecting.catch(() => {});
  await Promise.race([connecting, delay(options.startupWaitMs ?? 3_000)]);
  return claims;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

class RedisClaims implements ClusterClaims {
  readonly #client: ClaimsClient;
  readonly #prefix: string;
  readonly #names: string;
  readonly #nodes: string;
  readonly #nodeId: string;
  readonly #leaseMs: number;
  /** The names this node holds, claimed again after an outage. */
  readonly #held = new Map<string, UserId>();
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;
  #closing: Promise<void> | undefined;

  constructor(client: ClaimsClient, prefix: string, nodeId: string, leaseMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#names = `${prefix}:names`;
    this.#nodes = `${prefix}:nodes`;
    this.#nodeId = nodeId;
    this.#leaseMs = leaseMs;
  }

  get connected(): boolean {
    return this.#closing === undefined && this.#client.isReady;
  }

  start(renewMs: number): void {
    const renewQuietly = () => {
      if (this.#renewing || this.#closing) return;
      this.#renewing = true;
      this.renew()
        .catch(() => {})
        .finally(() => {
          this.#renewing = false;
        });
    };
    this.#timer = setInterval(renewQuietly, renewMs);
    // The lease must not keep the process alive on its own.
    this.#timer.unref();
    // After an outage the lease may have run out, and with it the names this
    // node's streams still wear: renew it, and claim them again, before any
    // claim that follows on this connection.
    this.#client.on("ready", () => {
      if (this.#closing) return;
      this.renew().catch(() => {});
      for (const [nameKey, userId] of this.#held) this.claimName(nameKey, userId).catch(() => {});
    });
  }

  async renew(): Promise<void> {
    const dead = await this.#client.renew(this.#nodes, this.#nodeId, this.#leaseMs);
    // Claims already ignore dead holders; clearing them only bounds memory.
    for (const node of dead) await this.#client.drop(this.#names, this.#nodes, node, false);
  }

  async claimName(nameKey: string, userId: UserId): Promise<boolean> {
    const granted = await this.#client.claim(
      this.#names,
      this.#nodes,
      nameKey,
      userId,
      this.#nodeId,
    );
    if (granted) this.#held.set(nameKey, userId);
    return granted;
  }

  releaseName(nameKey: string, userId: UserId): Promise<void> {
    if (this.#held.get(nameKey) === userId) this.#held.delete(nameKey);
    return this.#client.release(this.#names, nameKey, userId, this.#nodeId);
  }

  async take(key: string, perSecond: number, burst: number, cost: number): Promise<number> {
    if (perSecond <= 0) return 0;
    if (cost > burst) return Number.POSITIVE_INFINITY;
    return this.#client.take(`${this.#prefix}:rate:${key}`, perSecond, burst, cost);
  }

  close(): Promise<void> {
    this.#closing ??= this.#leave();
    return this.#closing;
  }

  async #leave(): Promise<void> {
    clearInterval(this.#timer);
    try {
      await this.#client.drop(this.#names, this.#nodes, this.#nodeId, true);
    } catch {
      // Redis is away: the lease runs out instead, and with it the names.
    } finally {
      await this.#client.close();
    }
  }
}
