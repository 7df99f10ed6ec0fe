#!/usr/bin/python3
"""A seed-style chat client in Python, for interop tests against our server.

It speaks the seed's contract (test/fixtures/seed-chat.proto, described in
../shared/seed/PROTOCOL.md) with Debian's python3-grpcio and python3-protobuf,
and without generated code: the message classes are built at run time from a
FileDescriptorProto written out below, field by field, as the seed defines it.

It does what the seed client does, in one scripted pass:

  1. JoinChat(User{user_id, username})
  2. GetChatHistory(message_limit=5, include_system_messages=true)
  3. ChatStream with metadata user_id, opening with an empty "hello"
  4. sends --send on the stream, then waits for --expect from someone else
  5. SendMessages(--batch ...) with metadata user_id; checks the summary
  6. GetChatHistory(message_limit=--history-limit, include_system_messages=true)
  7. "ping": a second JoinChat, which must be answered with "PONG..."
  8. ends the stream and waits for the server to end it too

Every step prints one JSON object on a line of stdout ({"step": ...}). Every
wait is bounded by --timeout seconds. On any failure it prints
{"step": "error", "error": ...} and a sentence on stderr, and exits with 1.

Run it with /usr/bin/python3 (where Debian's packages are installed):

  /usr/bin/python3 test/interop/seed_client.py --address 127.0.0.1:50051 \
      --name Py --send "hello from python" --expect "hello from node" \
      --batch one --batch two
"""

import argparse
import json
import queue
import re
import sys
import threading
import time
import uuid

try:
    import grpc
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
except ImportError as error:  # pragma: no cover - depends on the machine
    print(
        f"seed_client.py: cannot import grpc/protobuf ({error}); install them with "
        "`apt-get install -y python3-grpcio python3-protobuf` and run /usr/bin/python3",
        file=sys.stderr,
    )
    sys.exit(2)

SERVICE = "/chat.ChatService/"
SEED_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_BOOL = descriptor_pb2.FieldDescriptorProto.TYPE_BOOL
_INT32 = descriptor_pb2.FieldDescriptorProto.TYPE_INT32

# The seed's messages: name -> [(field, number, type)], exactly as seed-chat.proto.
SEED_MESSAGES = {
    "ChatMessage": [
        ("user_id", 1, _STRING),
        ("username", 2, _STRING),
        ("message", 3, _STRING),
        ("timestamp", 4, _STRING),
    ],
    "User": [("user_id", 1, _STRING), ("username", 2, _STRING)],
    "JoinResponse": [("success", 1, _BOOL), ("message", 2, _STRING)],
    "MessageResponse": [
        ("success", 1, _BOOL),
        ("message_count", 2, _INT32),
        ("summary", 3, _STRING),
    ],
    "HistoryRequest": [
        ("user_id", 1, _STRING),
        ("message_limit", 2, _INT32),
        ("include_system_messages", 3, _BOOL),
    ],
}

# name -> (input, output, client streaming, server streaming)
SEED_METHODS = {
    "ChatStream": ("ChatMessage", "ChatMessage", True, True),
    "JoinChat": ("User", "JoinResponse", False, False),
    "SendMessages": ("ChatMessage", "MessageResponse", True, False),
    "GetChatHistory": ("HistoryRequest", "ChatMessage", False, True),
}


class Failure(Exception):
    """A step did not go as the seed protocol says it must."""


def build_seed_classes():
    """The seed's message classes, from a FileDescriptorProto built here."""
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="seed_chat_runtime.proto", package="chat", syntax="proto3"
    )
    for message_name, fields in SEED_MESSAGES.items():
        message = file_proto.message_type.add(name=message_name)
        for field_name, number, field_type in fields:
            message.field.add(
                name=field_name,
                number=number,
                type=field_type,
                label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
                json_name=_camel(field_name),
            )
    service = file_proto.service.add(name="ChatService")
    for method_name, (request, response, client_streaming, server_streaming) in SEED_METHODS.items():
        service.method.add(
            name=method_name,
            input_type=f".chat.{request}",
            output_type=f".chat.{response}",
            client_streaming=client_streaming,
            server_streaming=server_streaming,
        )

    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    factory = None if get_class else message_factory.MessageFactory(pool)
    classes = {}
    for message_name in SEED_MESSAGES:
        descriptor = pool.FindMessageTypeByName(f"chat.{message_name}")
        classes[message_name] = get_class(descriptor) if get_class else factory.GetPrototype(descriptor)
    return classes


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def chat_message_dict(message):
    return {
        "user_id": message.user_id,
        "username": message.username,
        "message": message.message,
        "timestamp": message.timestamp,
    }


def check(condition, what):
    if not condition:
        raise Failure(what)


def seed_now():
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())


class SeedClient:
    def __init__(self, channel, classes, user_id, username, timeout):
        self.classes = classes
        self.user_id = user_id
        self.username = username
        self.timeout = timeout
        self.metadata = (("user_id", user_id),)
        C = classes
        self.join_chat = channel.unary_unary(
            SERVICE + "JoinChat",
            request_serializer=C["User"].SerializeToString,
            response_deserializer=C["JoinResponse"].FromString,
        )
        self.get_chat_history = channel.unary_stream(
            SERVICE + "GetChatHistory",
            request_serializer=C["HistoryRequest"].SerializeToString,
            response_deserializer=C["ChatMessage"].FromString,
        )
        self.send_messages = channel.stream_unary(
            SERVICE + "SendMessages",
            request_serializer=C["ChatMessage"].SerializeToString,
            response_deserializer=C["MessageResponse"].FromString,
        )
        self.chat_stream = channel.stream_stream(
            SERVICE + "ChatStream",
            request_serializer=C["ChatMessage"].SerializeToString,
            response_deserializer=C["ChatMessage"].FromString,
        )

    def message(self, text, timestamp=None):
        return self.classes["ChatMessage"](
            user_id=self.user_id,
            username=self.username,
            message=text,
            timestamp=seed_now() if timestamp is None else timestamp,
        )

    def join(self):
        user = self.classes["User"](user_id=self.user_id, username=self.username)
        return self.join_chat(user, timeout=self.timeout)

    def history(self, limit):
        request = self.classes["HistoryRequest"](
            user_id=self.user_id, message_limit=limit, include_system_messages=True
        )
        # The call's deadline bounds the whole server stream.
        messages = list(self.get_chat_history(request, timeout=self.timeout))
        for message in messages:
            check(
                SEED_TIMESTAMP.match(message.timestamp),
                f"history message has timestamp {message.timestamp!r}, not YYYY-MM-DD HH:MM:SS",
            )
        return messages

    def batch(self, texts):
        return self.send_messages(
            iter([self.message(text) for text in texts]),
            metadata=self.metadata,
            timeout=self.timeout,
        )


class Stream:
    """A ChatStream: requests from a queue, responses read by a thread into another."""

    _END = object()

    def __init__(self, client):
        self.client = client
        self.outgoing = queue.Queue()
        self.incoming = queue.Queue()
        self.received = []
        self.call = client.chat_stream(self._requests(), metadata=client.metadata)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _requests(self):
        while True:
            item = self.outgoing.get()
            if item is self._END:
                return
            yield item

    def _read(self):
        try:
            for message in self.call:
                self.incoming.put(("message", message))
            self.incoming.put(("end", self.call.code()))
        except grpc.RpcError as error:
            self.incoming.put(("end", error.code(), error.details()))
        except Exception as error:  # noqa: BLE001 - reported to the main thread
            self.incoming.put(("failed", repr(error)))

    def send(self, message):
        self.outgoing.put(message)

    def next_event(self, deadline, what):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Failure(f"timed out waiting for {what}")
        try:
            return self.incoming.get(timeout=remaining)
        except queue.Empty:
            raise Failure(f"timed out after {self.client.timeout} s waiting for {what}") from None

    def wait_for(self, text, timeout):
        """The next shown message with `text`: the seed client skips empty ones and its own."""
        deadline = time.monotonic() + timeout
        what = f"a message {text!r} on ChatStream"
        while True:
            event = self.next_event(deadline, what)
            if event[0] != "message":
                raise Failure(f"ChatStream ended before {what}: {event[1:]}")
            message = event[1]
            if message.message == "" or message.user_id == self.client.user_id:
                raise Failure(
                    "ChatStream delivered a message the seed client would hide "
                    f"(empty or its own): {chat_message_dict(message)}"
                )
            self.received.append(message)
            emit("stream_message", **chat_message_dict(message))
            if message.message == text:
                return message

    def close(self, timeout):
        """Ends our side, then waits for the server to end the call."""
        self.outgoing.put(self._END)
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.next_event(deadline, "the server to end ChatStream")
            except Failure:
                self.call.cancel()
                raise
            if event[0] == "message":
                self.received.append(event[1])
                emit("stream_message", **chat_message_dict(event[1]))
                continue
            if event[0] == "failed":
                raise Failure(f"reading ChatStream failed: {event[1]}")
            code = event[1]
            check(code == grpc.StatusCode.OK, f"ChatStream ended with {event[1:]}, expected OK")
            return code


def run(args):
    classes = build_seed_classes()
    user_id = args.user_id or str(uuid.uuid4())
    emit("start", user_id=user_id, username=args.name, address=args.address)

    with grpc.insecure_channel(args.address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=args.timeout)
        except grpc.FutureTimeoutError:
            raise Failure(f"could not connect to {args.address} within {args.timeout} s") from None
        client = SeedClient(channel, classes, user_id, args.name, args.timeout)

        # 1. JoinChat
        joined = client.join()
        emit("join", success=joined.success, message=joined.message)
        check(joined.success, f"JoinChat answered success=false: {joined.message!r}")

        # 2. The last 5 messages, streamed newest first (the seed client reverses them).
        before = client.history(5)
        emit("history", limit=5, messages=[chat_message_dict(m) for m in before])

        # 3. ChatStream, opening with an empty hello.
        stream = Stream(client)
        stream.send(client.message("", timestamp=""))
        emit("stream_open")

        # 4. Say something, then hear the other side.
        stream.send(client.message(args.send))
        emit("sent", message=args.send)
        heard = stream.wait_for(args.expect, args.timeout)
        check(
            SEED_TIMESTAMP.match(heard.timestamp),
            f"received timestamp {heard.timestamp!r} is not YYYY-MM-DD HH:MM:SS",
        )
        emit("received", **chat_message_dict(heard))

        # 5. /batch
        if args.batch:
            response = client.batch(args.batch)
            emit(
                "batch",
                success=response.success,
                message_count=response.message_count,
                summary=response.summary,
            )
            expected = f"Successfully processed {len(args.batch)} messages from {args.name}"
            check(response.success, f"SendMessages answered success=false: {response.summary!r}")
            check(
                response.message_count == len(args.batch),
                f"SendMessages counted {response.message_count} messages, sent {len(args.batch)}",
            )
            check(response.summary == expected, f"summary {response.summary!r}, expected {expected!r}")

        # 6. /history <n>
        after = client.history(args.history_limit)
        emit("history", limit=args.history_limit, messages=[chat_message_dict(m) for m in after])

        # 7. /ping: a JoinChat for a user the server knows.
        started = time.monotonic()
        pong = client.join()
        ms = (time.monotonic() - started) * 1000
        emit("ping", ms=round(ms, 3), success=pong.success, message=pong.message)
        check(pong.message.startswith("PONG"), f"ping answered {pong.message!r}, expected PONG...")

        # 8. exit
        code = stream.close(args.timeout)
        emit("left", code=code.name, received=[chat_message_dict(m) for m in stream.received])
    emit("done")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True, help="host:port of the server")
    parser.add_argument("--name", required=True, help="username to join with")
    parser.add_argument("--user-id", default="", help="default: a new UUID, as the seed makes one")
    parser.add_argument("--send", required=True, help="text to send on ChatStream")
    parser.add_argument("--expect", required=True, help="text to wait for from another user")
    parser.add_argument("--batch", action="append", default=[], help="a SendMessages text (repeat)")
    parser.add_argument("--history-limit", type=int, default=10, help="message_limit of the last history")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds any one wait may take")
    args = parser.parse_args()
    try:
        run(args)
    except Failure as failure:
        emit("error", error=str(failure))
        print(f"seed_client.py: {failure}", file=sys.stderr)
        sys.exit(1)
    except grpc.RpcError as error:
        text = f"RPC failed: {error.code().name}: {error.details()}"
        emit("error", error=text)
        print(f"seed_client.py: {text}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
