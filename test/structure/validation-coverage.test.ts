import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { CartServiceService } from '#libs/contracts/larder/order/v1/cart_service.js';
import { OrderServiceService } from '#libs/contracts/larder/order/v1/order_service.js';

/**
 * Every RPC has bad-input cases: a key `RpcName: [` in its area's validation
 * matrix, or (a streaming RPC the matrix cannot call) a `describe('RpcName'`
 * block, in services/<service>/test/validation/. Without this, an RPC added
 * without them would pass every test (CONTRIBUTING.md, "Add an RPC", step 7).
 */

const SERVICES: [string, Record<string, { path: string }>[]][] = [
  ['inventory', [InventoryServiceService]],
  ['order', [CartServiceService, OrderServiceService]],
];

describe('structure: every RPC has validation cases', () => {
  for (const [service, definitions] of SERVICES) {
    it(`services/${service}/test/validation covers each of its RPCs`, () => {
      const folder = new URL(`../../services/${service}/test/validation/`, import.meta.url);
      const text = readdirSync(folder)
        .filter((name) => name.endsWith('.test.ts'))
        .map((name) => readFileSync(new URL(name, folder), 'utf8'))
        .join('\n');
      const rpcs = definitions.flatMap((definition) => Object.values(definition).map((method) => method.path.split('/')[2]!));
      const uncovered = rpcs.filter((rpc) => !new RegExp(`(^\\s+${rpc}: \\[|describe\\('${rpc}')`, 'm').test(text));
      expect(uncovered).to.deep.equal([]);
    });
  }
});
