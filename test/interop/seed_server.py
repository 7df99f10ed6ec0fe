#!/usr/bin/python3
"""A stand-in for the seed's original Python chat server, for testing our clients.

It behaves as ../shared/seed/PROTOCOL.md records the seed server: the four
RPCs of the seed's contract and nothing else (any other method, such as our
Session, is answered UNIMPLEMENTED "Method not found!" by grpcio itself).
Like seed_client.py beside it, it uses Debian's python3-grpcio and
python3-protobuf and no generated code: the message classes come from the
descriptor seed_client.py builds at run time.

  - JoinChat records the username for the user_id and answers "Welcome to the
    chat, <name>!"; a user_id it knows already gets "PONG".
  - ChatStream registers the stream under the metadata user_id (or the first
    message's), skips empty messages, fills in an empty timestamp, keeps each
    message in history and relays it to every other stream, never back to the
    one that sent it. When a stream ends, "<name> has left the chat" (from
    user_id "system", username "System") goes to the others and into history.
  - SendMessages relays each non-empty message the same way and answers
    "Successfully processed N messages from <name>".
  - GetChatHistory streams at most message_limit messages (50 when 0 or less),
    newest first, system messages only with include_system_messages.
  - History is the last 1000 messages, in memory only.

Usage: /usr/bin/python3 test/interop/seed_server.py --port 0
It prints "seed server listening on 127.0.0.1:<port>" once it serves, and
"stream open: <name>" once a ChatStream is registered, so that a test can
know when a stream will be relayed to (the protocol itself never says). It
stops on SIGTERM or SIGINT.
"""

import argparse
import collections
import os
import queue
import signal
import sys
import threading
import time
from concurrent import futures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from seed_client import SEED_METHODS, build_seed_classes, grpc  # noqa: E402

HISTORY_KEPT = 1000
DEFAULT_HISTORY = 50
SYSTEM_ID = "system"


_print_lock = threading.Lock()


def say(line):
    """One whole line on stdout, whichever thread says it."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def seed_now():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


class SeedChat:
    """The seed server's state and its four handlers."""

    _END = object()

    def __init__(self, classes):
        self.C = classes
        self.lock = threading.Lock()
        self.users = {}  # user_id -> username, from JoinChat
        self.streams = {}  # stream key -> (who: {"user_id", "username"}, outgoing queue)
        self.history = collections.deque(maxlen=HISTORY_KEPT)

    def join_chat(self, request, context):
        with self.lock:
            known = request.user_id in self.users
            self.users[request.user_id] = request.username
        if known:
            return self.C["JoinResponse"](success=True, message="PONG")
        return self.C["JoinResponse"](
            success=True, message=f"Welcome to the chat, {request.username}!"
        )

    def chat_stream(self, request_iterator, context):
        key = object()
        outgoing = queue.Queue()
        metadata = dict(context.invocation_metadata())
        who = {"user_id": metadata.get("user_id", ""), "username": ""}
        with self.lock:
            self.streams[key] = (who, outgoing)
            who["username"] = self.users.get(who["user_id"], "")
        say(f"stream open: {who['username'] or who['user_id'] or '(unnamed)'}")

        def read():
            try:
                for message in request_iterator:
                    if not who["user_id"]:
                        who["user_id"] = message.user_id
                    if message.username:
                        who["username"] = message.username
                    self._relay(message)
            except Exception:  # noqa: BLE001 - a stream cut off ends like one closed
                pass
            outgoing.put(self._END)

        threading.Thread(target=read, daemon=True).start()
        context.add_callback(lambda: outgoing.put(self._END))
        try:
            while True:
                item = outgoing.get()
                if item is self._END:
                    return
                yield item
        finally:
            with self.lock:
                self.streams.pop(key, None)
            name = who["username"] or self.users.get(who["user_id"], "") or "Someone"
            self._publish(
                self.C["ChatMessage"](
                    user_id=SYSTEM_ID,
                    username="System",
                    message=f"{name} has left the chat",
                    timestamp=seed_now(),
                )
            )

    def send_messages(self, request_iterator, context):
        metadata = dict(context.invocation_metadata())
        user_id = metadata.get("user_id", "")
        name = self.users.get(user_id, "")
        count = 0
        for message in request_iterator:
            count += 1
            name = message.username or name
            self._relay(message)
        return self.C["MessageResponse"](
            success=True,
            message_count=count,
            summary=f"Successfully processed {count} messages from {name}",
        )

    def get_chat_history(self, request, context):
        limit = request.message_limit if request.message_limit > 0 else DEFAULT_HISTORY
        with self.lock:
            newest_first = list(reversed(self.history))
        sent = 0
        for message in newest_first:
            if sent >= limit:
                return
            if message.user_id == SYSTEM_ID and not request.include_system_messages:
                continue
            sent += 1
            yield message

    def _relay(self, message):
        if message.message == "":
            return
        self._publish(
            self.C["ChatMessage"](
                user_id=message.user_id,
                username=message.username,
                message=message.message,
                timestamp=message.timestamp or seed_now(),
            )
        )

    def _publish(self, message):
        """Into history, and to every stream but the sender's (by user_id, as the seed keys them)."""
        with self.lock:
            self.history.append(message)
            targets = [q for who, q in self.streams.values() if who["user_id"] != message.user_id]
        for target in targets:
            target.put(message)


def handlers(chat, classes):
    kinds = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    behaviour = {
        "ChatStream": chat.chat_stream,
        "JoinChat": chat.join_chat,
        "SendMessages": chat.send_messages,
        "GetChatHistory": chat.get_chat_history,
    }
    methods = {}
    for name, (request, response, client_streaming, server_streaming) in SEED_METHODS.items():
        methods[name] = kinds[(client_streaming, server_streaming)](
            behaviour[name],
            request_deserializer=classes[request].FromString,
            response_serializer=classes[response].SerializeToString,
        )
    return grpc.method_handlers_generic_handler("chat.ChatService", methods)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=50051, help="0: any free port")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()

    # Blocked before grpc starts its threads (they inherit the mask), so the
    # signal waits for sigwait below rather than landing on a grpc thread.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    classes = build_seed_classes()
    chat = SeedChat(classes)
    # Every open ChatStream holds a thread, as in the seed; a few more than it had.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers((handlers(chat, classes),))
    port = server.add_insecure_port(f"{args.host}:{args.port}")
    if port == 0:
        print(f"seed_server.py: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        sys.exit(1)
    server.start()
    say(f"seed server listening on {args.host}:{port}")

    signal.sigwait(stop_signals)
    server.stop(grace=None).wait()


if __name__ == "__main__":
    main()
