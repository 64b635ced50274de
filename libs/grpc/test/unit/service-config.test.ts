import { expect } from 'chai';
import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import * as messages from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import {
  InventoryServiceService,
  type GetProductRequest,
  type GetProductResponse,
  type AdjustStockRequest,
  type AdjustStockResponse,
} from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { createPromiseClient } from '#libs/grpc/client.js';
import { roundRobinChannelOptions } from '#libs/grpc/service-config.js';

/** A loopback server answering GetProduct with its own name, failing the first `unavailable` calls of each method. */
async function fakeInventory(name: string, unavailable = 0) {
  const seen = { getProduct: 0, adjustStock: 0, retries: 0 };
  let failuresLeft = { getProduct: unavailable, adjustStock: unavailable };
  const answer =
    <Req, Res>(method: 'getProduct' | 'adjustStock', result: () => Res) =>
    (call: ServerUnaryCall<Req, Res>, done: sendUnaryData<Res>) => {
      seen[method] += 1;
      if (call.metadata.get('grpc-previous-rpc-attempts').length > 0) seen.retries += 1;
      if (failuresLeft[method] > 0) {
        failuresLeft = { ...failuresLeft, [method]: failuresLeft[method] - 1 };
        done({ code: status.UNAVAILABLE, details: `${name} is unavailable` });
        return;
      }
      done(null, result());
    };
  const server = new Server();
  server.addService(InventoryServiceService, {
    getProduct: answer<GetProductRequest, GetProductResponse>('getProduct', () =>
      messages.GetProductResponse.fromPartial({ product: { name } }),
    ),
    adjustStock: answer<AdjustStockRequest, AdjustStockResponse>('adjustStock', () => messages.AdjustStockResponse.fromPartial({})),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { port, seen, stop: () => server.forceShutdown() };
}

const RETRY = { maxAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 50, backoffMultiplier: 2 };

describe('roundRobinChannelOptions', function () {
  this.timeout(20_000);

  it('spreads calls over every address of an ipv4: list (pick_first would send all to one)', async () => {
    const servers = [await fakeInventory('a'), await fakeInventory('b')];
    const client = createPromiseClient(InventoryServiceService, messages, `ipv4:${servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`, {
      channelOptions: roundRobinChannelOptions([InventoryServiceService.getProduct], RETRY),
      defaults: { timeoutMs: 5_000 },
    });
    try {
      const names: string[] = [];
      for (let i = 0; i < 20; i += 1) names.push((await client.getProduct({ id: 'x' })).product!.name);
      expect(names.filter((n) => n === 'a').length, names.join('')).to.be.within(5, 15);
      expect(names.filter((n) => n === 'b').length, names.join('')).to.be.within(5, 15);
    } finally {
      client.close();
      for (const server of servers) server.stop();
    }
  });

  it('retries UNAVAILABLE on the listed methods only', async () => {
    const server = await fakeInventory('a', 2);
    const client = createPromiseClient(InventoryServiceService, messages, `127.0.0.1:${server.port}`, {
      channelOptions: roundRobinChannelOptions([InventoryServiceService.getProduct], RETRY),
      defaults: { timeoutMs: 5_000 },
    });
    try {
      expect((await client.getProduct({ id: 'x' })).product!.name).to.equal('a');
      expect(server.seen).to.include({ getProduct: 3, retries: 2 });
      const refused = await client.adjustStock({ productId: 'x' }).then(
        () => undefined,
        (error: { code: number }) => error.code,
      );
      expect(refused, 'AdjustStock is not listed: its UNAVAILABLE reaches the caller').to.equal(status.UNAVAILABLE);
      expect(server.seen.adjustStock).to.equal(1);
    } finally {
      client.close();
      server.stop();
    }
  });
});
