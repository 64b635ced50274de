import { expect } from 'chai';
import { parseApiKeys } from '#libs/grpc/auth.js';
import { loadCompose } from '../support/container-files.js';
import { DEVELOPMENT_API_KEYS as INVENTORY_DEVELOPMENT_API_KEYS } from '../../services/inventory/config.js';
import { INVENTORY_SCOPES } from '../../services/inventory/transport/scopes.js';
import { readOrderConfig } from '../../services/order/config.js';

/**
 * How docker-compose.yml wires the two services together: the order service
 * reaches the inventory where compose runs it, with a key the inventory accepts
 * for what the order service asks of it. A check of both services' configuration
 * at once, so it lives here at the top level: a service's own tests never
 * import the other service's folder.
 */

const compose = loadCompose();
const orderEnv = compose.environment('order');
const inventoryEnv = compose.environment('inventory');

/** What the order service calls on the inventory: reserve and settle stock, read the catalog, restock cancelled orders. */
const SCOPES_THE_ORDER_SERVICE_NEEDS = ['catalog.read', 'reservations', 'stock.write'];

describe('compose wiring', () => {
  describe('docker-compose.yml: order → inventory', () => {
    it('points INVENTORY_ADDR at the inventory service and its GRPC_PORT', () => {
      const config = readOrderConfig(orderEnv);
      const [host, port, ...rest] = config.inventoryAddress.split(':');
      expect(rest, 'host:port').to.deep.equal([]);
      expect(host).to.equal('inventory');
      expect(Object.keys(compose.services)).to.include(host);
      expect(port).to.equal(inventoryEnv.GRPC_PORT);
      expect(config.tls, 'plaintext, as the inventory serves without TLS_* set').to.equal(undefined);
      expect(inventoryEnv.TLS_CERT_FILE).to.equal(undefined);
    });

    it(`sends, as INVENTORY_API_KEY, one of the inventory's API_KEYS with scopes ${SCOPES_THE_ORDER_SERVICE_NEEDS.join(', ')}`, () => {
      const key = readOrderConfig(orderEnv).inventoryApiKey;
      const inventoryKeys = parseApiKeys(inventoryEnv.API_KEYS!, INVENTORY_SCOPES);
      const entry = inventoryKeys.find((k) => k.key === key);
      expect(entry, "INVENTORY_API_KEY is one of the inventory's keys").to.not.equal(undefined);
      for (const scope of SCOPES_THE_ORDER_SERVICE_NEEDS) {
        expect(entry!.scopes.has('*') || entry!.scopes.has(scope), `key "${entry!.name}" has ${scope}`).to.equal(true);
      }
      expect(entry!.scopes.has('*'), 'not the admin key: the order service needs no catalog.write').to.equal(false);
      const developmentKeys = parseApiKeys(INVENTORY_DEVELOPMENT_API_KEYS, INVENTORY_SCOPES).map((k) => k.key);
      expect(developmentKeys, 'not a development key').not.to.include(key);
      const orderKeys = readOrderConfig(orderEnv).apiKeys.map((k) => k.key);
      expect(orderKeys, "not also a key of the order service's own callers").not.to.include(key);
    });
  });
});
