import { expect } from 'chai';
import { scopesOf } from '#libs/grpc/rpc-table.js';
import { contractScopes } from '#test/support/contract-scopes.js';
import { inventoryRpcs } from '../../services/inventory/transport/rpcs.js';
import { cartRpcs } from '../../services/order/transport/carts.js';
import { orderRpcs } from '../../services/order/transport/orders.js';

/**
 * The scope an RPC's declaration enforces is the one its .proto comment
 * promises callers ("Scope: <scope>."), for every RPC of every service; the
 * services' auth tests then check the server against those comments.
 */
const SERVICES = {
  'larder.inventory.v1.InventoryService': inventoryRpcs,
  'larder.order.v1.CartService': cartRpcs,
  'larder.order.v1.OrderService': orderRpcs,
};

describe('structure: each RPC enforces the scope its .proto comment names', () => {
  for (const [service, rpcs] of Object.entries(SERVICES)) {
    it(service, () => {
      expect(scopesOf(rpcs)).to.deep.equal(contractScopes(service));
    });
  }
});
