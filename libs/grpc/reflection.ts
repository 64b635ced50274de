import { readFileSync } from 'node:fs';
import { status as Code, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import * as v1 from '#libs/contracts/grpc/reflection/v1/reflection.js';
import * as v1alpha from '#libs/contracts/grpc/reflection/v1alpha/reflection.js';
import { indexDescriptorSet, withDependencies, type DescriptorIndex } from './descriptor-index.js';

/** Built by `npm run gen` (buf build): every .proto of ours, with imports and comments. */
export const DESCRIPTOR_SET_PATH = new URL('../contracts/descriptors.binpb', import.meta.url);

type Request = v1.ServerReflectionRequest;
type Response = v1.ServerReflectionResponse;

function answer(index: DescriptorIndex, request: Request, served: readonly string[]): Response {
  const base = { validHost: request.host, originalRequest: request };
  const files = (fileName: string | undefined): Response =>
    fileName && index.files.has(fileName)
      ? { ...base, fileDescriptorResponse: { fileDescriptorProto: withDependencies(index, fileName).map((b) => Buffer.from(b)) } }
      : { ...base, errorResponse: { errorCode: Code.NOT_FOUND, errorMessage: 'not found' } };
  if (request.listServices !== undefined) {
    return { ...base, listServicesResponse: { service: served.map((name) => ({ name })) } };
  }
  if (request.fileByFilename !== undefined) return files(request.fileByFilename);
  if (request.fileContainingSymbol !== undefined) return files(index.symbols.get(request.fileContainingSymbol.replace(/^\./, '')));
  if (request.allExtensionNumbersOfType !== undefined) {
    // None of our messages are extendable; known types answer with no extensions.
    return index.symbols.has(request.allExtensionNumbersOfType)
      ? { ...base, allExtensionNumbersResponse: { baseTypeName: request.allExtensionNumbersOfType, extensionNumber: [] } }
      : { ...base, errorResponse: { errorCode: Code.NOT_FOUND, errorMessage: 'type not found' } };
  }
  return { ...base, errorResponse: { errorCode: Code.NOT_FOUND, errorMessage: 'extension not found' } };
}

function handler(index: DescriptorIndex, served: readonly string[]) {
  return (stream: ServerDuplexStream<Request, Response>) => {
    stream.on('data', (request: Request) => stream.write(answer(index, request, served)));
    stream.on('end', () => stream.end());
  };
}

/**
 * gRPC server reflection (v1 and v1alpha) served straight from the FileDescriptorSet
 * buf built, so grpcurl and `buf curl` both see our services with their snake_case
 * field names and comments. `services` is what list answers (those the server runs).
 */
export function addReflection(server: Server, services: readonly string[]): void {
  const index = indexDescriptorSet(readFileSync(DESCRIPTOR_SET_PATH));
  const served = [...services, v1.protobufPackage + '.ServerReflection', v1alpha.protobufPackage + '.ServerReflection'];
  server.addService(v1.ServerReflectionService, { serverReflectionInfo: handler(index, served) });
  server.addService(v1alpha.ServerReflectionService, { serverReflectionInfo: handler(index, served) });
}
