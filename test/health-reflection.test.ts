import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import {
  type Client,
  type ClientDuplexStream,
  credentials,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProto } from "grpc-health-check";
import type { RunningChatServer } from "../src/server/chat-server.ts";
import { startTestServer, within } from "./helpers.ts";

// The reflection and health protos as the packages that implement them ship them.
const reflectionProto = join(
  dirname(createRequire(import.meta.url).resolve("@grpc/reflection/package.json")),
  "build/proto/grpc/reflection/v1/reflection.proto",
);

type AnyClient = Client & Record<string, (...args: unknown[]) => unknown>;

function clientFor(file: string, path: string[], address: string): AnyClient {
  let node: unknown = loadPackageDefinition(
    loadSync(file, { keepCase: true, defaults: true, enums: String }),
  );
  for (const part of path) node = (node as Record<string, unknown>)[part];
  return new (node as ServiceClientConstructor)(address, credentials.createInsecure()) as AnyClient;
}

let server: RunningChatServer;
before(async () => {
  // Accounts required: health and reflection still answer callers with no token.
  server = await startTestServer({ auth: "required" });
});
after(() => server.stop());

test("health: the server and the chat service report SERVING", async () => {
  const health = clientFor(healthProto, ["grpc", "health", "v1", "Health"], server.address);
  try {
    for (const service of ["", "chat.ChatService"]) {
      const reply = await new Promise<{ status: string }>((resolve, reject) =>
        health.Check?.({ service }, (error: ServiceError | null, r: { status: string }) =>
          error ? reject(error) : resolve(r),
        ),
      );
      assert.equal(reply.status, "SERVING", `health of "${service}"`);
    }
  } finally {
    health.close();
  }
});

test("reflection lists the chat service and describes its file", async () => {
  const reflection = clientFor(
    reflectionProto,
    ["grpc", "reflection", "v1", "ServerReflection"],
    server.address,
  );
  try {
    const call = reflection.ServerReflectionInfo?.() as ClientDuplexStream<
      object,
      Record<string, unknown>
    >;
    const replies: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (reply) => {
        replies.push(reply);
        if (replies.length === 2) call.end();
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    call.write({ list_services: "" });
    call.write({ file_containing_symbol: "chat.ChatService" });
    await within(done, 5_000, "two reflection replies");

    const [listed, described] = replies as [
      { list_services_response: { service: { name: string }[] } },
      { file_descriptor_response: { file_descriptor_proto: Buffer[] } },
    ];
    const services = listed.list_services_response.service.map((s) => s.name);
    assert.ok(services.includes("chat.ChatService"), `services: ${services.join(", ")}`);
    assert.ok(services.includes("grpc.health.v1.Health"));
    const files = described.file_descriptor_response.file_descriptor_proto;
    assert.ok(files.some((f) => f.toString("latin1").includes("ChatStream")));
  } finally {
    reflection.close();
  }
});
