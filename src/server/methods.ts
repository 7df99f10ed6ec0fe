import type { MessageShape } from "@bufbuild/protobuf";
import type { Access } from "../core/access.ts";
import type { ChatService } from "../gen/chat_pb.js";
import { DEFAULT_ROOM } from "../wire/room-names.ts";
import type { Transport } from "./connections.ts";

/**
 * What a call costs against the limits, charged before its handler runs:
 * `attempts` counts one sign-in attempt per call against the caller's address
 * (--auth-attempts-per-minute); `sends` marks a call whose messages each count
 * against the sender's send rate (--send-rate), which the core's send path
 * charges per message (refused, or on the seed's ChatStream paced); `none`.
 */
export type RateClass = "attempts" | "sends" | "searches" | "none";

/** One method's row: who may call it, where, at what cost. */
export interface MethodRule<Request> {
  readonly access: Access;
  /** `grpc`: the native port; `http`: the HTTP port (Connect and gRPC-Web). */
  readonly transports: readonly Transport[];
  readonly rate: RateClass;
  /** One of the seed's four RPCs, whose wire never changes. */
  readonly seed: boolean;
  /**
   * For access by room: the room the request names; undefined for a call
   * about the whole server, which a room role does not cover (admins only).
   */
  readonly room?: (request: Request) => string | undefined;
  /** The call posts to its room: the gate asks may-post (a mute refuses; a bot that may only post passes) rather than may-read. */
  readonly posts?: true;
}

type ChatMethods = (typeof ChatService)["method"];

/** A row for every method of ChatService, typed by its request; a missing or unknown one does not compile. */
export type MethodTable = {
  readonly [Name in keyof ChatMethods]: MethodRule<MessageShape<ChatMethods[Name]["input"]>>;
};

const NATIVE: readonly Transport[] = ["grpc"];
const BOTH: readonly Transport[] = ["grpc", "http"];

const seed = { transports: NATIVE, seed: true } as const;
const ours = { transports: BOTH, seed: false } as const;
const named = (request: { room: string }) => request.room || DEFAULT_ROOM;
/** "" names no room: the call is about the whole server, for admins only. */
const roomOrServer = (request: { room: string }) => request.room || undefined;

/**
 * Every RPC of ChatService, in one place. Authentication, access and the
 * per-call rate are applied from here before a handler runs, on both
 * transports; the HTTP port serves only what lists `http`; metrics label
 * calls by it. Adding an RPC is a row here and a function in the service.
 *
 * Access levels (core/access.ts): `anyone` needs no credentials in any auth
 * mode; `guest` is whoever the server lets in (in open mode anyone, who may
 * name themselves in the call as the seed's clients do; with --auth required
 * an account); `account` needs an account's token; `member` is a guest who
 * may read the room the request names (NOT_FOUND otherwise, as for a room
 * that does not exist; a ban says why and until when); `moderator` and
 * `owner` hold that role in the room (server admins hold every role; with no
 * room named, only they may call); `admin` is a server admin.
 */
export const METHODS: MethodTable = {
  chatStream: { ...seed, access: "guest", rate: "sends" },
  joinChat: { ...seed, access: "guest", rate: "attempts" },
  sendMessages: { ...seed, access: "guest", rate: "sends" },
  getChatHistory: { ...seed, access: "member", rate: "none", room: () => DEFAULT_ROOM },

  // Browsers have no client or bidirectional streams.
  session: { ...ours, transports: NATIVE, access: "guest", rate: "sends" },
  subscribe: { ...ours, access: "guest", rate: "none" },
  send: { ...ours, access: "member", rate: "sends", room: named, posts: true },
  history: { ...ours, access: "member", rate: "none", room: named },
  ping: { ...ours, access: "guest", rate: "none" },
  getServerInfo: { ...ours, access: "anyone", rate: "none" },

  register: { ...ours, access: "anyone", rate: "attempts" },
  login: { ...ours, access: "anyone", rate: "attempts" },
  logout: { ...ours, access: "account", rate: "none" },
  whoAmI: { ...ours, access: "guest", rate: "none" },

  listRooms: { ...ours, access: "guest", rate: "none" },
  openDirect: { ...ours, access: "guest", rate: "none" },
  setTopic: { ...ours, access: "member", rate: "none", room: named },
  listMembers: { ...ours, access: "member", rate: "none", room: named },

  edit: { ...ours, access: "member", rate: "sends", room: named },
  delete: { ...ours, access: "member", rate: "sends", room: named },
  react: { ...ours, access: "member", rate: "sends", room: named },
  markRead: { ...ours, access: "member", rate: "none", room: named },
  setTyping: { ...ours, access: "member", rate: "none", room: named },

  // Rooms a team governs. The core checks the same rules again where it acts.
  createRoom: { ...ours, access: "guest", rate: "none" },
  getRoom: { ...ours, access: "member", rate: "none", room: named },
  updateRoom: { ...ours, access: "owner", rate: "none", room: named },
  setRole: { ...ours, access: "owner", rate: "none", room: named },
  invite: { ...ours, access: "moderator", rate: "none", room: named },
  createInvite: { ...ours, access: "moderator", rate: "none", room: named },
  // A code is a secret worth guessing: each try counts as a sign-in attempt.
  redeemInvite: { ...ours, access: "guest", rate: "attempts" },
  createWebhook: { ...ours, access: "moderator", rate: "none", room: named },
  listWebhooks: { ...ours, access: "moderator", rate: "none", room: named },
  revokeWebhook: { ...ours, access: "moderator", rate: "none", room: named },
  // Who owns the bot is checked by the core (admins may revoke any).
  createBot: { ...ours, access: "account", rate: "none" },
  listBots: { ...ours, access: "account", rate: "none" },
  revokeBot: { ...ours, access: "account", rate: "none" },
  setNotify: { ...ours, access: "member", rate: "none", room: named },
  setEmail: { ...ours, access: "account", rate: "none" },
  kick: { ...ours, access: "moderator", rate: "none", room: named },
  ban: { ...ours, access: "moderator", rate: "none", room: named },
  unban: { ...ours, access: "moderator", rate: "none", room: named },
  mute: { ...ours, access: "moderator", rate: "none", room: named },
  unmute: { ...ours, access: "moderator", rate: "none", room: named },
  listBans: { ...ours, access: "moderator", rate: "none", room: roomOrServer },
  banAddress: { ...ours, access: "admin", rate: "none" },
  unbanAddress: { ...ours, access: "admin", rate: "none" },
  report: { ...ours, access: "member", rate: "sends", room: named },
  listReports: { ...ours, access: "moderator", rate: "none", room: named },
  resolveReport: { ...ours, access: "moderator", rate: "none", room: named },
  listAudit: { ...ours, access: "owner", rate: "none", room: roomOrServer },

  // Administration: `grpc-chat admin` on the native port; the page's HTTP port
  // serves none of it but ResetPassword, which the person with a code may use anywhere.
  adminListUsers: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  adminSetDisabled: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  adminResetPassword: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  adminDeleteUser: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  adminDeleteRoom: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  adminPurge: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  export: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  // Client streaming: native only.
  import: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  backup: { ...ours, transports: NATIVE, access: "admin", rate: "none" },
  resetPassword: { ...ours, access: "anyone", rate: "attempts" },

  // Rooms are checked inside the store's query: a hit only from a room the caller may read.
  search: { ...ours, access: "guest", rate: "searches" },
};

/** The row of a method by its local name (`send`, `chatStream`). */
export function ruleOf(localName: string): MethodRule<never> | undefined {
  return (METHODS as Record<string, MethodRule<never>>)[localName];
}
