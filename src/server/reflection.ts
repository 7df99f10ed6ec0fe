import {
  create,
  createFileRegistry,
  type DescFile,
  type FileRegistry,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";
import {
  file_grpc_reflection_v1_reflection as reflectionV1File,
  ServerReflection,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.js";
import {
  file_grpc_reflection_v1alpha_reflection as reflectionV1alphaFile,
  ServerReflection as ServerReflectionV1alpha,
} from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { grpcServiceDefinition } from "../wire/grpc-service.ts";

/** The one part of a request we read; v1 and v1alpha requests both have this shape. */
export interface ReflectionRequest {
  readonly messageRequest:
    | {
        readonly case:
          | "fileByFilename"
          | "fileContainingSymbol"
          | "allExtensionNumbersOfType"
          | "listServices";
        readonly value: string;
      }
    | {
        readonly case: "fileContainingExtension";
        readonly value: { readonly containingType: string; readonly extensionNumber: number };
      }
    | { readonly case: undefined; readonly value?: undefined };
}

export type ReflectionAnswer = MessageInitShape<
  typeof ServerReflectionResponseSchema
>["messageResponse"];

/** Answers reflection requests about a fixed set of files, from the descriptors buf compiled. */
export interface Reflection {
  answer(request: ReflectionRequest): ReflectionAnswer;
}

/** The files and everything they import, each after its imports (a registry needs that order). */
function withImports(files: readonly DescFile[]): DescFile[] {
  const ordered = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (ordered.has(file.proto.name)) return;
    for (const imported of file.dependencies) visit(imported);
    ordered.set(file.proto.name, file);
  };
  for (const file of files) visit(file);
  return [...ordered.values()];
}

/**
 * Every name a client may ask for, to the file that defines it. Beyond the
 * types a registry knows, clients ask for methods (`grpcurl describe
 * pkg.Service.Method`), fields, oneofs and enum values.
 */
function symbolsOf(registry: FileRegistry): Map<string, DescFile> {
  const symbols = new Map<string, DescFile>();
  for (const file of registry.files) {
    for (const type of nestedTypes(file)) {
      symbols.set(type.typeName, file);
      switch (type.kind) {
        case "service":
          for (const method of type.methods) symbols.set(`${type.typeName}.${method.name}`, file);
          break;
        case "message":
          for (const member of [...type.fields, ...type.oneofs]) {
            symbols.set(`${type.typeName}.${member.name}`, file);
          }
          break;
        case "enum": {
          // Enum values are scoped beside their enum, as in C++.
          const scope = type.parent?.typeName ?? file.proto.package;
          for (const value of type.values) {
            symbols.set(scope ? `${scope}.${value.name}` : value.name, file);
          }
          break;
        }
      }
    }
  }
  return symbols;
}

/**
 * Reflection over `served` (the files whose services this server serves), the
 * reflection service's own files, and all they import. The descriptors are
 * the ones buf compiled into the generated code, sent as they are.
 */
export function createReflection(served: readonly DescFile[]): Reflection {
  const files = withImports([...served, reflectionV1File, reflectionV1alphaFile]);
  const registry = createFileRegistry(
    create(FileDescriptorSetSchema, { file: files.map((file) => file.proto) }),
  );
  const encoded = new Map(
    files.map((file) => [file.proto.name, toBinary(FileDescriptorProtoSchema, file.proto)]),
  );
  const symbols = symbolsOf(registry);
  const services = [...served, reflectionV1File, reflectionV1alphaFile].flatMap((file) =>
    file.services.map((service) => ({ name: service.typeName })),
  );

  const notFound = (what: string): ReflectionAnswer => ({
    case: "errorResponse",
    value: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` },
  });
  // A file with all it imports: a client builds its descriptors from these alone.
  // Files go by their full names ("chat.proto"; DescFile.name drops ".proto").
  const fileAnswer = (name: string): ReflectionAnswer => {
    const file = registry.getFile(name);
    if (!file) return notFound(`file "${name}"`);
    // Reversed, the asked-for file comes first, as clients expect.
    const names = withImports([file])
      .map((f) => f.proto.name)
      .reverse();
    return {
      case: "fileDescriptorResponse",
      value: { fileDescriptorProto: names.map((n) => encoded.get(n) ?? new Uint8Array()) },
    };
  };

  return {
    answer({ messageRequest: request }) {
      switch (request.case) {
        case "listServices":
          return { case: "listServicesResponse", value: { service: services } };
        case "fileByFilename":
          return fileAnswer(request.value);
        case "fileContainingSymbol": {
          const file = symbols.get(request.value);
          return file ? fileAnswer(file.proto.name) : notFound(`symbol "${request.value}"`);
        }
        case "fileContainingExtension": {
          const { containingType, extensionNumber } = request.value;
          const extendee = registry.getMessage(containingType);
          const extension = extendee && registry.getExtensionFor(extendee, extensionNumber);
          return extension
            ? fileAnswer(extension.file.proto.name)
            : notFound(`extension ${extensionNumber} of "${containingType}"`);
        }
        case "allExtensionNumbersOfType": {
          if (!registry.getMessage(request.value)) return notFound(`type "${request.value}"`);
          const extensionNumber = [...registry].flatMap((t) =>
            t.kind === "extension" && t.extendee.typeName === request.value ? [t.number] : [],
          );
          return {
            case: "allExtensionNumbersResponse",
            value: { baseTypeName: request.value, extensionNumber },
          };
        }
        default:
          return {
            case: "errorResponse",
            value: { errorCode: status.INVALID_ARGUMENT, errorMessage: "no request set" },
          };
      }
    },
  };
}

/**
 * Serves reflection (v1, and v1alpha for older clients) about `served` on a
 * grpc-js server. v1alpha is v1 under an older name, byte for byte, so v1's
 * codec and handler serve both.
 */
export function addReflection(server: Server, served: readonly DescFile[]): void {
  const reflection = createReflection(served);
  const info = (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
    call.on("data", (request: ServerReflectionRequest) => {
      call.write(
        create(ServerReflectionResponseSchema, {
          validHost: request.host,
          originalRequest: request,
          messageResponse: reflection.answer(request),
        }),
      );
    });
    call.on("end", () => call.end());
  };
  const v1 = grpcServiceDefinition(ServerReflection);
  const v1alpha: ServiceDefinition = Object.fromEntries(
    Object.entries(v1).map(([name, method]) => [
      name,
      {
        ...method,
        path: method.path.replace(ServerReflection.typeName, ServerReflectionV1alpha.typeName),
      },
    ]),
  );
  server.addService(v1, { serverReflectionInfo: info });
  server.addService(v1alpha, { serverReflectionInfo: info });
}
