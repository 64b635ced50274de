import { randomUUID } from 'node:crypto';
import { Client, credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { InventoryServiceService } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { AdjustmentReason, ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import { contractScopes } from '#test/support/contract-scopes.js';
import { expectGrpcError, outcomeOf } from '#test/support/grpc-errors.js';
import { describeOpenEndpoints } from '#test/support/open-endpoints.js';
import { readInventoryConfig } from '../config.js';
import {
  ADMIN_KEY,
  createTestProduct,
  STOREFRONT_KEY,
  WAREHOUSE_KEY,
  startTestInventory,
  type InventoryApi,
  type TestInventory,
} from './harness.js';

const SERVICE_NAME = 'larder.inventory.v1.InventoryService';

/** The scope each RPC needs, as the contract (inventory_service.proto) documents it: "Scope: <scope>." */
const SCOPE_OF = contractScopes(SERVICE_NAME);

/**
 * Past auth, an empty request is INVALID_ARGUMENT: every RPC needs an id or some
 * field, except these, whose every field is optional (a first page of everything).
 */
const ANSWER_EMPTY_REQUEST: readonly (keyof typeof InventoryServiceService)[] = ['listProducts', 'listCategories', 'listLocations'];
const emptyRequestAnswer = (rpc: string) => ((ANSWER_EMPTY_REQUEST as readonly string[]).includes(rpc) ? 'OK' : 'INVALID_ARGUMENT');

/** The development keys (config.ts) this file checks, and the scopes they hold. */
const KEYS: { name: string; key: string; scopes: string[] }[] = [
  { name: 'admin', key: ADMIN_KEY, scopes: ['*'] },
  { name: 'storefront', key: STOREFRONT_KEY, scopes: ['catalog.read', 'reservations'] },
  { name: 'warehouse', key: WAREHOUSE_KEY, scopes: ['catalog.read', 'stock.write'] },
];

type AnyCall = (request: object, options?: { metadata?: Metadata }) => Promise<unknown>;
const method = (api: InventoryApi, name: string) => (api as unknown as Record<string, AnyCall>)[name]!;

const withAuthorization = (value: string) => {
  const metadata = new Metadata();
  metadata.set('authorization', value);
  return metadata;
};

describe('API keys and scopes', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  let anonymous: InventoryApi;
  let stranger: InventoryApi;
  let storefront: InventoryApi;
  let warehouse: InventoryApi;
  let productId: string;

  const stockOf = async (id: string) => (await inv.api.batchGetStockLevels({ productIds: [id] })).stockLevels[0]!;
  const expectScopeMissing = async (call: Promise<unknown>, scope: string) => {
    const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
    expect(reason).to.equal('SCOPE_MISSING');
    expect(info!.metadata.scope).to.equal(scope);
  };

  before(async () => {
    inv = await startTestInventory();
    anonymous = inv.clientWith('');
    stranger = inv.clientWith('not-a-key-this-service-knows');
    storefront = inv.clientWith(STOREFRONT_KEY);
    warehouse = inv.clientWith(WAREHOUSE_KEY);
    productId = (await createTestProduct(inv.api, { initialStock: 20 })).id;
  });
  after(async () => inv?.stop());

  describe('authentication', () => {
    it('refuses a call without authorization metadata: UNAUTHENTICATED, API_KEY_MISSING', async () => {
      const { reason } = await expectGrpcError(anonymous.getProduct({ id: productId }), Code.UNAUTHENTICATED);
      expect(reason).to.equal('API_KEY_MISSING');
      expect((await expectGrpcError(anonymous.listProducts({}), Code.UNAUTHENTICATED)).reason).to.equal('API_KEY_MISSING');
    });

    it('refuses an unknown key: UNAUTHENTICATED, API_KEY_INVALID, without echoing the key', async () => {
      const { reason, error } = await expectGrpcError(stranger.getProduct({ id: productId }), Code.UNAUTHENTICATED);
      expect(reason).to.equal('API_KEY_INVALID');
      expect(error.details).to.not.include('not-a-key-this-service-knows');
    });

    it('refuses keys that differ from a real one only in case, a prefix or a suffix', async () => {
      for (const key of [ADMIN_KEY.toUpperCase(), ADMIN_KEY.slice(0, -1), `${ADMIN_KEY}x`]) {
        const { reason } = await expectGrpcError(
          anonymous.listProducts({}, { metadata: withAuthorization(`Bearer ${key}`) }),
          Code.UNAUTHENTICATED,
        );
        expect(reason, key).to.equal('API_KEY_INVALID');
      }
    });

    // Without the Bearer scheme the caller is told the scheme is missing; Bearer without one key is a missing key.
    const malformed: [string, string][] = [
      ['Basic x', 'API_KEY_SCHEME_MISSING'],
      [`Basic ${ADMIN_KEY}`, 'API_KEY_SCHEME_MISSING'],
      [ADMIN_KEY, 'API_KEY_SCHEME_MISSING'],
      [`Token ${ADMIN_KEY}`, 'API_KEY_SCHEME_MISSING'],
      ['Bearer', 'API_KEY_MISSING'],
      [`Bearer ${ADMIN_KEY} ${ADMIN_KEY}`, 'API_KEY_MISSING'],
    ];
    for (const [header, wanted] of malformed) {
      it(`refuses the malformed header "${header.replaceAll(ADMIN_KEY, '<admin key>')}" as UNAUTHENTICATED, ${wanted}`, async () => {
        const { reason, error } = await expectGrpcError(
          anonymous.listProducts({}, { metadata: withAuthorization(header) }),
          Code.UNAUTHENTICATED,
        );
        expect(reason).to.equal(wanted);
        expect(error.details).to.not.include(ADMIN_KEY);
      });
    }

    it('accepts the Bearer scheme in any case', async () => {
      const { products } = await anonymous.listProducts({ pageSize: 1 }, { metadata: withAuthorization(`bearer ${STOREFRONT_KEY}`) });
      expect(products).to.have.length(1);
    });

    it('checks the key before the request: no key and a bad request is UNAUTHENTICATED, not INVALID_ARGUMENT', async () => {
      await expectGrpcError(anonymous.reserveStock({ orderId: 'nope', items: [] }), Code.UNAUTHENTICATED);
      await expectGrpcError(stranger.adjustStock({ delta: 0 }), Code.UNAUTHENTICATED);
    });

    it('checks the key before decoding: undecodable bytes without a key are UNAUTHENTICATED', async () => {
      const client = new Client(inv.address, credentials.createInsecure());
      const error = await new Promise<ServiceError | null>((resolve) =>
        client.makeUnaryRequest(
          `/${SERVICE_NAME}/ReserveStock`,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
          new Metadata(),
          (e: ServiceError | null) => resolve(e),
        ),
      );
      client.close();
      expect(error && Code[error.code]).to.equal('UNAUTHENTICATED');
    });
  });

  describe('storefront key (catalog.read, reservations)', () => {
    it('lists and reads products and stock', async () => {
      const { products } = await storefront.listProducts({ pageSize: 10 });
      expect(products.map((p) => p.id)).to.include(productId);
      const { product } = await storefront.getProduct({ id: productId });
      expect(product!.id).to.equal(productId);
      expect((await storefront.batchGetStockLevels({ productIds: [productId] })).stockLevels).to.have.length(1);
      await storefront.listCategories({});
    });

    it('reserves stock, reads and releases its reservation', async () => {
      const orderId = randomUUID();
      const { reservation } = await storefront.reserveStock({ orderId, items: [{ productId, quantity: 1 }] });
      expect(reservation!.status).to.equal(ReservationStatus.RESERVATION_STATUS_RESERVED);
      expect((await storefront.getReservation({ orderId })).reservation!.orderId).to.equal(orderId);
      const released = await storefront.releaseReservation({ orderId, reason: 'auth test' });
      expect(released.reservation!.status).to.equal(ReservationStatus.RESERVATION_STATUS_RELEASED);
    });

    it('may not AdjustStock, CreateProduct, DeleteProduct, UpdateProduct or CreateCategory (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
      const stockBefore = await stockOf(productId);
      const sku = `DENIED-${randomUUID().slice(0, 8)}`;
      await expectScopeMissing(
        storefront.adjustStock({ productId, delta: 100, reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK, idempotencyKey: randomUUID() }),
        'stock.write',
      );
      await expectScopeMissing(
        storefront.createProduct({ product: { sku, name: 'Denied', price: { currencyCode: 'EUR', minorUnits: 1 } } }),
        'catalog.write',
      );
      await expectScopeMissing(storefront.deleteProduct({ id: productId }), 'catalog.write');
      await expectScopeMissing(
        storefront.updateProduct({ product: { id: productId, name: 'Hijacked' }, updateMask: ['name'] }),
        'catalog.write',
      );
      await expectScopeMissing(storefront.createCategory({ category: { name: `Denied ${sku}` } }), 'catalog.write');

      expect(await stockOf(productId)).to.deep.equal(stockBefore);
      const { product } = await inv.api.getProduct({ id: productId });
      expect(product!.deleteTime).to.equal(undefined);
      expect(product!.name).to.not.equal('Hijacked');
      expect(Number((await inv.db('products').where({ sku }).count<{ count: string }[]>('* as count'))[0]!.count)).to.equal(0);
    });

    it('is refused for lack of scope even when the request is also invalid (scope before validation)', async () => {
      await expectScopeMissing(storefront.adjustStock({ productId: 'nope', delta: 0 }), 'stock.write');
    });
  });

  describe('warehouse key (catalog.read, stock.write)', () => {
    it('adjusts stock and reads it', async () => {
      const before = await stockOf(productId);
      const { stockLevel } = await warehouse.adjustStock({
        productId,
        delta: 5,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
        idempotencyKey: `warehouse-${randomUUID()}`,
      });
      expect(stockLevel!.available).to.equal(before.available + 5);
      expect((await warehouse.getProduct({ id: productId })).product!.stockLevel!.available).to.equal(before.available + 5);
      await warehouse.listProducts({ pageSize: 1 });
    });

    it('may not ReserveStock or CreateProduct (PERMISSION_DENIED, SCOPE_MISSING), and changes nothing', async () => {
      const before = await stockOf(productId);
      const orderId = randomUUID();
      await expectScopeMissing(warehouse.reserveStock({ orderId, items: [{ productId, quantity: 1 }] }), 'reservations');
      await expectScopeMissing(warehouse.getReservation({ orderId }), 'reservations');
      await expectScopeMissing(
        warehouse.createProduct({
          product: { sku: `WH-${randomUUID().slice(0, 8)}`, name: 'Denied', price: { currencyCode: 'EUR', minorUnits: 1 } },
        }),
        'catalog.write',
      );
      expect(await stockOf(productId)).to.deep.equal(before);
      await expectGrpcError(inv.api.getReservation({ orderId }), Code.NOT_FOUND);
    });
  });

  describe("admin key ('*')", () => {
    it('can call every RPC', async () => {
      const api = inv.api;
      const { category } = await api.createCategory({ category: { name: `Admin ${randomUUID().slice(0, 8)}` } });
      await api.getCategory({ id: category!.id });
      await api.listCategories({});
      await api.updateCategory({ category: { id: category!.id, description: 'updated' }, updateMask: ['description'] });
      const { product } = await api.createProduct({
        product: {
          sku: `ADMIN-${randomUUID().slice(0, 8)}`,
          name: 'Admin product',
          price: { currencyCode: 'EUR', minorUnits: 250 },
          categoryIds: [category!.id],
        },
        initialStock: 10,
      });
      const id = product!.id;
      await api.getProduct({ id });
      await api.listProducts({ categoryId: category!.id });
      await api.updateProduct({ product: { id, name: 'Renamed by admin' }, updateMask: ['name'] });
      await api.adjustStock({
        productId: id,
        delta: 2,
        reason: AdjustmentReason.ADJUSTMENT_REASON_RESTOCK,
        idempotencyKey: `admin-${randomUUID()}`,
      });
      await api.batchGetStockLevels({ productIds: [id] });
      const committed = randomUUID();
      await api.reserveStock({ orderId: committed, items: [{ productId: id, quantity: 3 }] });
      await api.getReservation({ orderId: committed });
      await api.extendReservation({ orderId: committed, ttl: { seconds: 600 } });
      await api.commitReservation({ orderId: committed });
      const released = randomUUID();
      await api.reserveStock({ orderId: released, items: [{ productId: id, quantity: 1 }] });
      await api.releaseReservation({ orderId: released, reason: 'admin test' });
      await api.deleteProduct({ id });
      await api.undeleteProduct({ id });
      await api.deleteCategory({ id: category!.id, force: true });
      expect(await stockOf(id)).to.include({ available: 9, reserved: 0, sold: 3 });
    });
  });

  describe('every RPC × every key', () => {
    const rpcs = Object.keys(SCOPE_OF);

    it('covers every RPC of the service', () => {
      expect([...rpcs].sort()).to.deep.equal(Object.keys(InventoryServiceService).sort());
    });

    it('without a key, every RPC is UNAUTHENTICATED', async () => {
      const outcomes = await Promise.all(rpcs.map(async (rpc) => [rpc, await outcomeOf(method(anonymous, rpc)({}))] as const));
      expect(Object.fromEntries(outcomes)).to.deep.equal(Object.fromEntries(rpcs.map((rpc) => [rpc, 'UNAUTHENTICATED'])));
    });

    for (const { name, key, scopes } of KEYS) {
      it(`${name}: PERMISSION_DENIED exactly for the RPCs outside ${scopes.join(', ')}`, async () => {
        const client = inv.clientWith(key);
        // An empty request: refused by validation (or answered) when the scope is held, refused by auth when not.
        const outcomes = await Promise.all(rpcs.map(async (rpc) => [rpc, await outcomeOf(method(client, rpc)({}))] as const));
        const allowed = (rpc: string) => scopes.includes('*') || scopes.includes(SCOPE_OF[rpc]!);
        // Past auth, each RPC answers an empty request one way only (emptyRequestAnswer).
        expect(Object.fromEntries(outcomes)).to.deep.equal(
          Object.fromEntries(rpcs.map((rpc) => [rpc, allowed(rpc) ? emptyRequestAnswer(rpc) : 'PERMISSION_DENIED'])),
        );
      });
    }
  });

  describeOpenEndpoints({
    address: () => inv.address,
    services: [SERVICE_NAME],
    descriptorIncludes: ['larder/inventory/v1/inventory_service.proto', 'page_size', 'ReserveStock'],
  });

  describe('configuration', () => {
    const configErrorOf = (env: Record<string, string>): ConfigError => {
      try {
        readInventoryConfig(env);
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error(`readInventoryConfig accepted ${JSON.stringify(env)}`);
    };

    it('refuses to start in production without API_KEYS (the development keys are public)', () => {
      const error = configErrorOf({ NODE_ENV: 'production' });
      expect(error.variable).to.equal('API_KEYS');
      expect(error.message).to.include('API_KEYS');
    });

    it('in production uses the given keys and none of the development keys', () => {
      const config = readInventoryConfig({ NODE_ENV: 'production', API_KEYS: 'ops=prod-key-0123456789abcdef:*' });
      expect(config.apiKeys.map((k) => k.name)).to.deep.equal(['ops']);
      expect(config.apiKeys.map((k) => k.key)).to.not.include(ADMIN_KEY);
    });

    for (const port of ['abc', '70000', '-1', '80.5']) {
      it(`refuses GRPC_PORT=${port}, naming GRPC_PORT`, () => {
        const error = configErrorOf({ GRPC_PORT: port });
        expect(error.variable).to.equal('GRPC_PORT');
        expect(error.message).to.include('GRPC_PORT');
      });
    }

    for (const url of ['mysql://x', 'not a url']) {
      it(`refuses DATABASE_URL=${url}, naming DATABASE_URL`, () => {
        const error = configErrorOf({ DATABASE_URL: url });
        expect(error.variable).to.equal('DATABASE_URL');
        expect(error.message).to.include('DATABASE_URL');
      });
    }
  });
});
