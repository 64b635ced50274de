import { DESCRIPTOR_SET_PATH } from '#libs/grpc/reflection.js';
import { describeApi } from '../../scripts/api-docs/descriptors.js';

/** "Scope: catalog.write." in a proto comment: the scope is dotted words, the sentence ends after it. */
const SCOPE = /\bScope: ([a-z]+(?:\.[a-z]+)*)\./;

/**
 * The scope each RPC of a service needs, as its .proto comment says it
 * ("Scope: <scope>." on the rpc, or on the service for all its rpcs), keyed by
 * the method's lowerCamel name as ts-proto's service definition is. An rpc
 * whose comment names no scope is an error: the contract must say it.
 */
export function contractScopes(serviceFullName: string): Record<string, string> {
  const service = describeApi(DESCRIPTOR_SET_PATH, 'larder/').services.find((s) => s.fullName === serviceFullName);
  if (!service) throw new Error(`${serviceFullName} is not in ${DESCRIPTOR_SET_PATH.pathname}`);
  const serviceScope = SCOPE.exec(service.comment)?.[1];
  return Object.fromEntries(
    service.methods.map((method) => {
      const scope = SCOPE.exec(method.comment)?.[1] ?? serviceScope;
      if (!scope) throw new Error(`the comment of ${method.fullName} (or of its service) names no "Scope: <scope>."`);
      return [method.name.charAt(0).toLowerCase() + method.name.slice(1), scope];
    }),
  );
}
