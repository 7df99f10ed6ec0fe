import { create } from "@bufbuild/protobuf";
import { ChatError, toChatError } from "../core/chat-error.ts";
import type { ChatStream } from "../core/chat-stream.ts";
import { DEFAULT_ROOM, type Identity } from "../core/types.ts";
import { JoinResponseSchema, MessageResponseSchema } from "../gen/chat_pb.js";
import type { HandlerContext } from "./context.ts";
import { seedHistoryFrames } from "./encoders.ts";
import { checkClaim, seedIdentity } from "./identity.ts";
import { finishStream, openLiveStream } from "./live-stream.ts";
import { Pipeline, STREAM_SENDS_IN_FLIGHT } from "./pipeline.ts";
import type { ChatServicePart } from "./service-impl.ts";

/** The seed's four RPCs, with the seed's behaviour (PROTOCOL.md) and its bugs fixed. */
export function seedService(
  context: HandlerContext,
): ChatServicePart<"joinChat" | "chatStream" | "sendMessages" | "getChatHistory"> {
  const { chat } = context;

  return {
    async joinChat(request, { caller, guestSecret, address }) {
      // The seed names its user in the request; the metadata, if any, must agree.
      const claimed = request.userId;
      if (guestSecret !== "") checkClaim(claimed, guestSecret);
      const who =
        caller.kind === "account" ? caller : chat.identities.guest(claimed || guestSecret);
      const { identity, known } = await chat.identities.nameFor(who, request.username, address);
      // A user banned from the seed's room hears why at once, not at their first message.
      await chat.governance.rules.checkRead(identity, DEFAULT_ROOM);
      const message =
        caller.kind === "account"
          ? `Welcome to the chat, ${identity.username}! You are logged in.`
          : known
            ? "PONG"
            : `Welcome to the chat, ${identity.username}!`;
      return create(JoinResponseSchema, { success: true, message });
    },

    async chatStream(requests, call) {
      const { caller } = call;
      let secret = call.guestSecret;
      let stream: ChatStream | undefined;
      const sends = new Pipeline(STREAM_SENDS_IN_FLIGHT);
      const enter = async (identity: Identity) => {
        // The seed's clients never show their own messages, from any call. No
        // per-message refusal on this wire: a send over the rate waits its turn.
        stream = await openLiveStream(context, call.live, identity, {
          skipOwnUser: true,
          pace: true,
          oneRoom: true,
        });
        await stream.joinRoom(DEFAULT_ROOM);
        return stream;
      };
      try {
        // A user who joined first is live at once, before their first message.
        if (chat.identities.nameOf(caller) !== undefined) {
          await enter((await chat.identities.nameFor(caller, "")).identity);
        }
        await requests.each(async (message) => {
          if (stream?.ended) return;
          let live = stream;
          if (live) checkClaim(message.userId, secret, live.identity.userId);
          else {
            const who = await seedIdentity(chat, caller, secret, message, call.address);
            secret = who.secret;
            live = await enter(who.identity);
          }
          // The seed client opens with an empty "hello"; empty messages are never relayed.
          if (message.message === "") return;
          await live.writable();
          await sends.add(
            live.send({ room: DEFAULT_ROOM, text: message.message }).then(
              () => {},
              // The seed's wire has no per-message refusal: the status says why.
              (error) => live.end(call.live.cancelled ? undefined : toChatError(error)),
            ),
          );
        });
        await sends.drain();
        finishStream(call, stream);
      } catch (error) {
        await sends.drain();
        // The seed's wire has no per-message refusal: the status says why.
        finishStream(call, stream, error);
      }
    },

    async sendMessages(requests, call) {
      let secret = call.guestSecret;
      let identity: Identity | undefined;
      const texts: string[] = [];
      await requests.each(async (message) => {
        if (identity === undefined) {
          ({ identity, secret } = await seedIdentity(
            chat,
            call.caller,
            secret,
            message,
            call.address,
          ));
        } else checkClaim(message.userId, secret, identity.userId);
        if (message.message === "") return;
        if (texts.length === chat.limits.maxBatch) {
          throw new ChatError(
            "invalid_argument",
            `A batch holds at most ${chat.limits.maxBatch} messages; send the rest in another batch.`,
          );
        }
        texts.push(message.message);
      });
      if (identity === undefined) {
        return create(MessageResponseSchema, {
          success: true,
          messageCount: 0,
          summary: "No messages received",
        });
      }
      const stored = await chat.sendBatch(identity, DEFAULT_ROOM, texts, call.address);
      return create(MessageResponseSchema, {
        success: true,
        messageCount: stored.length,
        summary: `Successfully processed ${stored.length} messages from ${identity.username}`,
      });
    },

    async getChatHistory(request, call) {
      // The seed's history is the lobby's, which everyone may read.
      const { messages } = await chat.rooms.history(undefined, {
        room: DEFAULT_ROOM,
        limit: request.messageLimit,
        includeSystem: request.includeSystemMessages,
      });
      // One buffer of frames, written once: a protobuf-es object, a date, a
      // copy and a write per message were most of what this call cost.
      const { sink } = call.live;
      const frames = seedHistoryFrames(messages);
      if (frames.byteLength > 0) sink.write(frames);
      sink.end(undefined);
    },
  };
}
