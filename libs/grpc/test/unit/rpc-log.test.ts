import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import {
  InventoryServiceClient,
  InventoryServiceService,
  type GetReservationResponse,
} from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { GrpcServer, type Handlers, type Scopes } from '../../server.js';

type Line = Record<string, unknown>;

/** A GrpcServer at `level` with one method (GetReservation); its log lines, parsed. */
async function serverLogging(level: string) {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const server = new GrpcServer(
    { logger: pino({ level }, sink), apiKeys: [{ name: 'storefront', key: 'k-1', scopes: new Set(['reservations']) }] },
    ['larder.inventory.v1.InventoryService'],
  );
  const handlers = {
    getReservation: async (_request: unknown, ctx: { logger: pino.Logger }) => {
      ctx.logger.warn('inside the handler');
      return { reservation: undefined };
    },
  } as unknown as Handlers<typeof InventoryServiceService>;
  const scopes = Object.fromEntries(Object.keys(InventoryServiceService).map((name) => [name, 'reservations'])) as Scopes<
    typeof InventoryServiceService
  >;
  server.addService(InventoryServiceService, handlers, scopes);
  const port = await server.listen('127.0.0.1', 0);
  const client = new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = (key: string) =>
    new Promise<GetReservationResponse | ServiceError>((resolve) => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${key}`);
      metadata.set('x-request-id', 'req-42');
      client.getReservation({ orderId: '0190c3a0-0000-7000-8000-000000000001' }, metadata, (error, response) =>
        resolve(error ?? response!),
      );
    });
  return {
    lines,
    call,
    async close() {
      client.close();
      await server.shutdown(1_000);
    },
  };
}

/** Runs `check` against a fresh server at `level`, and closes it whatever happens. */
async function withServer(level: string, check: (served: Awaited<ReturnType<typeof serverLogging>>) => Promise<void>) {
  const served = await serverLogging(level);
  try {
    await check(served);
  } finally {
    await served.close();
  }
}

/** The call's logger is made lazily (libs/grpc/server.ts): what it binds must not change. */
describe('RPC log lines', () => {
  it('bind method, correlation id and caller, in the handler and in the rpc line', () =>
    withServer('info', async (served) => {
      await served.call('k-1');
      const inside = served.lines.find((line) => line.msg === 'inside the handler');
      const rpc = served.lines.find((line) => line.msg === 'rpc');
      for (const line of [inside, rpc]) {
        expect(line).to.include({
          method: '/larder.inventory.v1.InventoryService/GetReservation',
          correlationId: 'req-42',
          caller: 'storefront',
        });
      }
      expect(rpc).to.include({ code: 'OK' });
      expect(rpc!.durationMs).to.be.a('number');
    }));

  it('a refused key: the rpc line has the method and correlation id, no caller, and the code', () =>
    withServer('info', async (served) => {
      await served.call('wrong');
      const rpc = served.lines.find((line) => line.msg === 'rpc');
      expect(rpc).to.include({ method: '/larder.inventory.v1.InventoryService/GetReservation', correlationId: 'req-42' });
      expect(rpc).to.include({ code: 'UNAUTHENTICATED', error: 'unknown API key' });
      expect(rpc).not.to.have.property('caller');
    }));

  it('above info: no rpc line, and the handler still logs with its bindings', () =>
    withServer('warn', async (served) => {
      await served.call('k-1');
      expect(served.lines.map((line) => line.msg)).to.deep.equal(['inside the handler']);
      expect(served.lines[0]).to.include({ caller: 'storefront', correlationId: 'req-42' });
    }));
});
