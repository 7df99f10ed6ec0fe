// The reference for `npm run bench -- --compare`: the smallest grpc-js server
// that does what the seed's ChatStream promises on the wire. JoinChat says
// yes; every ChatStream message is decoded, encoded once, and written to
// every other open stream. No validation, no storage, no ids, no limits,
// no flow control of its own: a ceiling to measure ours against.
// Usage: node bench/ceiling.ts [--port 0]
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { ChatMessageSchema, JoinResponseSchema } from "../src/gen/chat_pb.js";
import { chatServiceDefinition } from "../src/wire/grpc-service.ts";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });

const streams = new Set<ServerDuplexStream<unknown, Uint8Array>>();

const server = new Server();
server.addService(chatServiceDefinition, {
  joinChat(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
    callback(null, create(JoinResponseSchema, { success: true, message: "Welcome" }));
  },
  chatStream(call: ServerDuplexStream<unknown, Uint8Array>) {
    streams.add(call);
    const leave = () => streams.delete(call);
    call.on("cancelled", leave);
    call.on("error", leave);
    call.on("end", () => {
      leave();
      call.end();
    });
    call.on("data", (message) => {
      // The service definition decodes requests with protobuf-es; encode once for everyone.
      const bytes = toBinary(ChatMessageSchema, message as never);
      for (const other of streams) if (other !== call) other.write(bytes);
    });
  },
});

server.bindAsync(`127.0.0.1:${values.port}`, ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.stdout.write(`ceiling listening on 127.0.0.1:${port}\n`);
});
process.once("SIGTERM", () => server.forceShutdown());
