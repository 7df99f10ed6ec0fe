import { BlockList, isIP } from "node:net";
import type { AddressBan, Store } from "../store/store.ts";
import type { AuditLog } from "./audit-log.ts";
import { asChatError, ChatError } from "./chat-error.ts";
import type { Clock } from "./clock.ts";
import type { SanctionView } from "./governance-types.ts";
import type { People } from "./people.ts";
import { untilText } from "./room-rules.ts";
import type { Identity } from "./types.ts";

interface Held {
  readonly ban: AddressBan;
  readonly list: BlockList;
}

/** "203.0.113.7", "203.0.113.0/24", "2001:db8::/32" as one canonical range, or INVALID_ARGUMENT. */
export function parseCidr(text: string): {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
} {
  const [address = "", prefixText, extra] = text.trim().split("/");
  const version = isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (
    version === 0 ||
    extra !== undefined ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > max
  ) {
    throw new ChatError(
      "invalid_argument",
      `"${text.slice(0, 60)}" is not an address or range; give one like 203.0.113.7, 203.0.113.0/24 or 2001:db8::/32.`,
    );
  }
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/**
 * Server-wide bans of client address ranges: a banned guest can pick a new
 * secret, but not a new address so easily. Held in memory, reloaded when
 * any node changes them; every call is checked before anything else.
 */
export class AddressBans {
  readonly #store: Store;
  readonly #clock: Clock;
  #held: Held[] = [];

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async load(): Promise<void> {
    const bans = await this.#store.addressBans(this.#clock.now());
    this.#held = bans.map((ban) => {
      const { address, prefix, family } = parseCidr(ban.cidr);
      const list = new BlockList();
      list.addSubnet(address, prefix, family);
      return { ban, list };
    });
  }

  /** Throws PERMISSION_DENIED when `address` is in a range banned now. */
  check(address: string): void {
    if (this.#held.length === 0 || address === "") return;
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    const now = this.#clock.now();
    for (const { ban, list } of this.#held) {
      if (ban.untilMs !== 0 && ban.untilMs <= now) continue;
      if (list.check(address, family)) {
        throw new ChatError(
          "permission_denied",
          `Your address is banned from this server ${untilText(ban.untilMs)}.${ban.reason ? ` Reason: ${ban.reason}` : ""}`,
        );
      }
    }
  }

  async ban(by: Identity, cidrText: string, untilMs: number, reason: string, audit: AuditLog) {
    const { address, prefix } = parseCidr(cidrText);
    const cidr = `${address}/${prefix}`;
    await asChatError(
      this.#store.setAddressBan({
        cidr,
        untilMs,
        reason,
        byId: by.userId,
        createdMs: this.#clock.now(),
      }),
    );
    await audit.record(by, "ban_address", "", { target: cidr, reason, detail: untilText(untilMs) });
    return cidr;
  }

  async lift(by: Identity, cidrText: string, audit: AuditLog): Promise<void> {
    const { address, prefix } = parseCidr(cidrText);
    const cidr = `${address}/${prefix}`;
    if (!(await asChatError(this.#store.liftAddressBan(cidr)))) {
      throw new ChatError("not_found", `${cidr} is not banned.`);
    }
    await audit.record(by, "unban_address", "", { target: cidr });
  }

  async list(people: People): Promise<SanctionView[]> {
    const bans = await asChatError(this.#store.addressBans(this.#clock.now()));
    return Promise.all(
      bans.map(async (ban) => ({
        kind: "ban" as const,
        room: "",
        user: undefined,
        cidr: ban.cidr,
        by: await people.identity(ban.byId),
        reason: ban.reason,
        untilMs: ban.untilMs,
        atMs: ban.createdMs,
      })),
    );
  }
}
