import { credentials, status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { HealthCheckResponse_ServingStatus as Serving, HealthClient } from '#libs/contracts/grpc/health/v1/health.js';
import { ServerReflectionClient } from '#libs/contracts/grpc/reflection/v1/reflection.js';
import { expectGrpcError } from './grpc-errors.js';
import { reflect } from './raw-grpc.js';

export interface OpenEndpointsSpec {
  /** The running server's host:port (read when the tests run, after the caller's before hooks). */
  address: () => string;
  /** The Larder services the server runs, full names. */
  services: string[];
  /** What the first service's descriptors must hold: its file name, snake_case field names, RPC names. */
  descriptorIncludes: string[];
}

/**
 * Health and reflection answer without an API key, on every service: a load
 * balancer and grpcurl / buf curl must reach them before anyone holds a key.
 */
export function describeOpenEndpoints(spec: OpenEndpointsSpec): void {
  describe('health and reflection need no key', () => {
    let health: HealthClient;
    let reflection: ServerReflectionClient;

    before(() => {
      health = new HealthClient(spec.address(), credentials.createInsecure());
      reflection = new ServerReflectionClient(spec.address(), credentials.createInsecure());
    });
    after(() => {
      health?.close();
      reflection?.close();
    });

    const check = (service: string) =>
      new Promise<Serving>((resolve, reject) =>
        health.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))),
      );

    it(`Health/Check answers SERVING for the server ("") and for ${spec.services.join(', ')}`, async () => {
      for (const service of ['', ...spec.services]) expect(Serving[await check(service)], service || '""').to.equal('SERVING');
    });

    it('Health/Check answers NOT_FOUND for a service the server does not run', async () => {
      await expectGrpcError(check('larder.nothing.v1.Nothing'), Code.NOT_FOUND);
    });

    it('reflection lists the services, health and reflection', async () => {
      const response = await reflect(reflection, { listServices: '' });
      const names = response.listServicesResponse!.service.map((s) => s.name);
      expect(names).to.include.members([...spec.services, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']);
    });

    it(`reflection returns the descriptors of ${spec.services[0]} and its imports, with snake_case field names`, async () => {
      const response = await reflect(reflection, { fileContainingSymbol: spec.services[0] });
      expect(response.errorResponse).to.equal(undefined);
      const files = response.fileDescriptorResponse!.fileDescriptorProto.map((bytes) => Buffer.from(bytes));
      expect(files.length).to.be.greaterThan(1); // the file and what it imports
      const all = Buffer.concat(files);
      for (const text of spec.descriptorIncludes) expect(all.includes(text), text).to.equal(true);
    });

    it('reflection answers NOT_FOUND for an unknown symbol', async () => {
      const response = await reflect(reflection, { fileContainingSymbol: 'larder.nothing.v1.Nothing' });
      expect(response.errorResponse?.errorCode).to.equal(Code.NOT_FOUND);
    });
  });
}
