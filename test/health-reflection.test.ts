import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { create, type DescService, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  type ClientDuplexStream,
  credentials,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { ChatService } from "../src/gen/chat_pb.js";
import {
  Health,
  HealthCheckRequestSchema,
  type HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
} from "../src/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
} from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { grpcServiceDefinition } from "../src/wire/grpc-service.ts";
import { ROOT, startTestServer, within } from "./helpers.ts";

const run = promisify(execFile);
// buf's own launcher, run by this Node rather than whichever `node` is on PATH.
const BUF = join(
  dirname(createRequire(import.meta.url).resolve("@bufbuild/buf/package.json")),
  "bin/buf",
);

/** Runs `buf curl` by reflection alone (no proto files) over plaintext HTTP/2. */
async function bufCurl(args: string[]): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
    { timeout: 60_000 },
  );
  return stdout;
}

/** `buf curl`'s JSON answer to one unary call. */
async function bufCall(
  server: RunningChatServer,
  method: string,
  body: object,
  headers: string[] = [],
): Promise<Record<string, unknown>> {
  const args = [...headers.flatMap((h) => ["-H", h]), "-d", JSON.stringify(body)];
  return JSON.parse(await bufCurl([...args, `http://${server.address}/${method}`]));
}

function clientFor(service: DescService, address: string): Client & Record<string, unknown> {
  const Constructor = makeGenericClientConstructor(grpcServiceDefinition(service), service.name);
  return new Constructor(address, credentials.createInsecure()) as Client & Record<string, unknown>;
}

type ReflectionRequest = MessageInitShape<typeof ServerReflectionRequestSchema>;

/** Sends `requests` on one reflection stream (v1 or v1alpha) and collects the answers. */
async function reflect(
  address: string,
  requests: ReflectionRequest[],
  service: DescService = ServerReflection,
): Promise<ServerReflectionResponse["messageResponse"][]> {
  const client = clientFor(service, address);
  try {
    const call = (client.serverReflectionInfo as () => ClientDuplexStream<unknown, unknown>)();
    const replies: ServerReflectionResponse["messageResponse"][] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (reply: ServerReflectionResponse) => replies.push(reply.messageResponse));
      call.on("error", reject);
      call.on("end", resolve);
    });
    // Each version's own request messages: v1alpha's are not v1's to protobuf-es.
    const input = service.methods[0]?.input ?? ServerReflectionRequestSchema;
    for (const request of requests) call.write(create(input, request));
    call.end();
    await within(done, 10_000, "reflection answers");
    return replies;
  } finally {
    client.close();
  }
}

function files(answer: ServerReflectionResponse["messageResponse"] | undefined) {
  assert.equal(answer?.case, "fileDescriptorResponse", JSON.stringify(answer));
  return answer.value.fileDescriptorProto.map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

let required: RunningChatServer;
let open: RunningChatServer;
before(async () => {
  // Accounts required: health and reflection still answer callers with no token.
  required = await startTestServer({ auth: "required" });
  open = await startTestServer({ auth: "open" });
});
after(() => Promise.all([required.stop(), open.stop()]));

test("health: the server and the chat service report SERVING", async () => {
  const health = clientFor(Health, required.address);
  try {
    for (const service of ["", "chat.ChatService"]) {
      const reply = await new Promise<HealthCheckResponse>((resolve, reject) =>
        (health.check as (...args: unknown[]) => void)(
          create(HealthCheckRequestSchema, { service }),
          (error: ServiceError | null, r: HealthCheckResponse) =>
            error ? reject(error) : resolve(r),
        ),
      );
      assert.equal(
        reply.status,
        HealthCheckResponse_ServingStatus.SERVING,
        `health of "${service}"`,
      );
    }
  } finally {
    health.close();
  }
});

test("buf curl by reflection lists chat, health and reflection, without a token", async () => {
  const services = (await bufCurl(["--list-services", `http://${required.address}`])).split("\n");
  for (const name of [
    "chat.ChatService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
  ]) {
    assert.ok(services.includes(name), `${name} in: ${services.join(", ")}`);
  }
  const methods = (await bufCurl(["--list-methods", `http://${required.address}`])).split("\n");
  for (const method of ChatService.methods) {
    assert.ok(methods.includes(`chat.ChatService/${method.name}`), `${method.name} listed`);
  }
});

test("buf curl by reflection registers, then calls WhoAmI and Ping with the token", async () => {
  const registered = await bufCall(required, "chat.ChatService/Register", {
    username: "reflected",
    password: "correct horse battery",
  });
  assert.equal(registered.username, "reflected");
  const bearer = `authorization: Bearer ${registered.token}`;
  const me = await bufCall(required, "chat.ChatService/WhoAmI", {}, [bearer]);
  assert.deepEqual([me.username, me.account, me.userId], ["reflected", true, registered.userId]);
  const pong = await bufCall(required, "chat.ChatService/Ping", {}, [bearer]);
  assert.ok(Math.abs(Number(pong.serverTimeMs) - Date.now()) < 60_000, JSON.stringify(pong));
  // Without the token the same call is refused: reflection opened no back door.
  await assert.rejects(bufCall(required, "chat.ChatService/Ping", {}), /unauthenticated/i);
});

test("buf curl by reflection calls Ping and WhoAmI as a guest", async () => {
  const pong = await bufCall(open, "chat.ChatService/Ping", {});
  assert.match(String(pong.serverTimeMs), /^\d+$/);
  const me = await bufCall(open, "chat.ChatService/WhoAmI", {}, ["user_id: a-guest-secret"]);
  assert.match(String(me.userId), /^g-/);
  assert.equal(me.account, undefined, "false is left out of JSON");
});

test("buf curl calls a health method by reflection, over v1 and over v1alpha", async () => {
  for (const protocol of ["grpc-v1", "grpc-v1alpha"]) {
    const reply = await bufCurl([
      "--reflect-protocol",
      protocol,
      "-d",
      '{"service":"chat.ChatService"}',
      `http://${required.address}/grpc.health.v1.Health/Check`,
    ]);
    assert.deepEqual(JSON.parse(reply), { status: "SERVING" }, protocol);
  }
});

test("the README's buf curl lines work", async () => {
  const lines = readFileSync(join(ROOT, "README.md"), "utf8")
    .split("\n")
    .filter((line) => line.startsWith("buf curl "));
  assert.ok(lines.length >= 2, "the README shows buf curl");
  for (const line of lines) {
    // Words, with '...' quoting as a shell reads it; the README's port is the default.
    const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
    const args = words.slice(2).map((w) => w.replace("localhost:50051", open.address));
    assert.ok(await bufCurl(args), line);
  }
});

test("reflection describes a method from the file buf compiled, reserved ranges intact", async () => {
  for (const service of [ServerReflection, ServerReflectionV1alpha]) {
    const [health, chat] = await reflect(
      required.address,
      [
        { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health.Check" } },
        { messageRequest: { case: "fileByFilename", value: "chat.proto" } },
      ],
      service,
    );
    const [healthFile] = files(health);
    assert.equal(healthFile?.name, "grpc/health/v1/health.proto");
    const check = healthFile?.service[0]?.method.find((m) => m.name === "Check");
    assert.deepEqual(
      [check?.inputType, check?.outputType],
      [".grpc.health.v1.HealthCheckRequest", ".grpc.health.v1.HealthCheckResponse"],
    );
    // `reserved 3, 4, 6;` with exclusive ends, as protoc writes them: proto-loader's
    // descriptor got these wrong, and clients then could not build the file.
    const welcome = files(chat)[0]?.messageType.find((m) => m.name === "Welcome");
    assert.deepEqual(
      welcome?.reservedRange.map(({ start, end }) => [start, end]),
      [
        [3, 4],
        [4, 5],
        [6, 7],
      ],
    );
  }
});

test("reflection answers what it does not have with an error, and goes on", async () => {
  const answers = await reflect(required.address, [
    { messageRequest: { case: "fileContainingSymbol", value: "chat.NoSuchThing" } },
    { messageRequest: { case: "fileByFilename", value: "nowhere.proto" } },
    {
      messageRequest: {
        case: "fileContainingExtension",
        value: { containingType: "chat.PingRequest", extensionNumber: 100 },
      },
    },
    { messageRequest: { case: "allExtensionNumbersOfType", value: "chat.PingRequest" } },
    { messageRequest: { case: "allExtensionNumbersOfType", value: "chat.NoSuchThing" } },
    {},
    { messageRequest: { case: "fileContainingSymbol", value: "chat.ChatService.Ping" } },
  ]);
  const codes = answers.map((a) => (a.case === "errorResponse" ? a.value.errorCode : a.case));
  assert.deepEqual(codes, [
    status.NOT_FOUND,
    status.NOT_FOUND,
    status.NOT_FOUND,
    "allExtensionNumbersResponse",
    status.NOT_FOUND,
    status.INVALID_ARGUMENT,
    "fileDescriptorResponse",
  ]);
  assert.deepEqual(answers[3]?.value, {
    $typeName: "grpc.reflection.v1.ExtensionNumberResponse",
    baseTypeName: "chat.PingRequest",
    extensionNumber: [],
  });
  assert.equal(files(answers[6])[0]?.name, "chat.proto");
});
