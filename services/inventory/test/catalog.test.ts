import { randomBytes, randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import type { Product } from '#libs/contracts/larder/inventory/v1/resources.js';
import { expectGrpcError, outcomeOf, tally } from '#test/support/grpc-errors.js';
import { findInvariantViolations } from '../data/invariants.js';
import { createTestProduct, startTestInventory, type InventoryApi, type TestInventory } from './harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A short random tag (letters and digits) that makes names and SKUs unique to one test. */
const newTag = () => `t${randomBytes(4).toString('hex')}`;

const sorted = (values: readonly string[]) => [...values].sort();

/** Every product ListProducts returns for this request, walking all its pages. */
async function listAll(
  api: InventoryApi,
  request: { pageSize?: number; nameContains?: string; categoryId?: string; showDeleted?: boolean } = {},
) {
  const products: Product[] = [];
  let pageToken = '';
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await api.listProducts({ pageSize: 100, ...request, pageToken });
    products.push(...page.products);
    if (!page.nextPageToken) return products;
    pageToken = page.nextPageToken;
  }
  throw new Error('ListProducts never returned an empty next_page_token');
}

describe('catalog', function () {
  this.timeout(30_000);
  let inv: TestInventory;

  before(async () => {
    inv = await startTestInventory();
  });
  after(async () => inv?.stop());

  afterEach(async () => {
    expect(await findInvariantViolations(inv.db)).to.deep.equal([]);
  });

  describe('products', () => {
    const productsWithSku = async (sku: string) =>
      Number((await inv.db('products').where({ sku }).count<{ count: string }[]>('* as count'))[0]!.count);

    it('creates a product with a UUID, an etag, times and its initial stock available', async () => {
      const sku = `SKU-${newTag()}`;
      const before = Date.now();
      const { product } = await inv.api.createProduct({
        product: {
          sku,
          name: 'Whole milk 1l',
          description: 'Fresh',
          price: { currencyCode: 'EUR', minorUnits: 129 },
          lowStockThreshold: 3,
        },
        initialStock: 42,
      });
      expect(product!.id).to.match(UUID);
      expect(product!.etag).to.be.a('string').and.not.equal('');
      expect(product).to.include({ sku, name: 'Whole milk 1l', description: 'Fresh', lowStockThreshold: 3 });
      expect(product!.price).to.deep.equal({ currencyCode: 'EUR', minorUnits: 129 });
      expect(product!.categoryIds).to.deep.equal([]);
      expect(product!.createTime!.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      expect(product!.updateTime!.getTime()).to.be.at.least(product!.createTime!.getTime());
      expect(product!.deleteTime).to.equal(undefined);
      expect(product!.stockLevel).to.include({ productId: product!.id, available: 42, reserved: 0, sold: 0, lowStock: false });

      const { product: read } = await inv.api.getProduct({ id: product!.id });
      expect(read).to.deep.equal(product);
    });

    it('refuses a SKU that is taken (ALREADY_EXISTS, SKU_TAKEN) and creates nothing', async () => {
      const first = await createTestProduct(inv.api, { sku: `SKU-${newTag()}`, initialStock: 5 });
      const { reason, field } = await expectGrpcError(createTestProduct(inv.api, { sku: first.sku, name: 'Another' }), Code.ALREADY_EXISTS);
      expect(reason).to.equal('SKU_TAKEN');
      expect(field).to.equal('product.sku');
      expect(await productsWithSku(first.sku)).to.equal(1);
      expect((await inv.api.getProduct({ id: first.id })).product!.name).to.equal(first.name);
    });

    it('keeps the SKU of a soft-deleted product taken', async () => {
      const first = await createTestProduct(inv.api, { sku: `SKU-${newTag()}` });
      await inv.api.deleteProduct({ id: first.id });
      const { reason } = await expectGrpcError(createTestProduct(inv.api, { sku: first.sku }), Code.ALREADY_EXISTS);
      expect(reason).to.equal('SKU_TAKEN');
      expect(await productsWithSku(first.sku)).to.equal(1);
    });

    it('lets exactly one of 20 concurrent creates of the same SKU succeed', async () => {
      const sku = `SKU-${newTag()}`;
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => outcomeOf(createTestProduct(inv.api, { sku, name: `Racer ${i}` }))),
      );
      expect(tally(outcomes)).to.deep.equal({ OK: 1, ALREADY_EXISTS: 19 });
      expect(await productsWithSku(sku)).to.equal(1);
    });

    it('GetProduct of an unknown id is NOT_FOUND', async () => {
      await expectGrpcError(inv.api.getProduct({ id: randomUUID() }), Code.NOT_FOUND);
      await expectGrpcError(inv.api.getProduct({ id: randomUUID(), showDeleted: true }), Code.NOT_FOUND);
    });

    it('UpdateProduct changes only the fields in update_mask and bumps the etag', async () => {
      const created = await createTestProduct(inv.api, {
        name: 'Butter',
        description: 'Salted',
        price: { currencyCode: 'EUR', minorUnits: 250 },
        lowStockThreshold: 2,
        initialStock: 9,
      });
      const { product: updated } = await inv.api.updateProduct({
        product: {
          id: created.id,
          sku: 'IGNORED-SKU',
          name: 'Unsalted butter',
          description: 'must not be applied',
          price: { currencyCode: 'USD', minorUnits: 1 },
          lowStockThreshold: 7,
        },
        updateMask: ['name', 'low_stock_threshold'],
      });
      expect(updated).to.include({
        id: created.id,
        sku: created.sku,
        name: 'Unsalted butter',
        description: 'Salted',
        lowStockThreshold: 7,
      });
      expect(updated!.price).to.deep.equal({ currencyCode: 'EUR', minorUnits: 250 });
      expect(updated!.etag).to.not.equal(created.etag);
      expect(updated!.createTime).to.deep.equal(created.createTime);
      expect(updated!.updateTime!.getTime()).to.be.at.least(created.updateTime!.getTime());
      expect(updated!.stockLevel).to.include({ available: 9, reserved: 0, sold: 0 });
      expect((await inv.api.getProduct({ id: created.id })).product).to.deep.equal(updated);

      const { product: repriced } = await inv.api.updateProduct({
        product: { id: created.id, etag: updated!.etag, price: { currencyCode: 'EUR', minorUnits: 275 }, name: 'ignored' },
        updateMask: ['price'],
      });
      expect(repriced).to.include({ name: 'Unsalted butter', description: 'Salted', lowStockThreshold: 7 });
      expect(repriced!.price).to.deep.equal({ currencyCode: 'EUR', minorUnits: 275 });
      expect(new Set([created.etag, updated!.etag, repriced!.etag]).size).to.equal(3);
    });

    it('UpdateProduct with a stale etag is ABORTED and changes nothing', async () => {
      const created = await createTestProduct(inv.api, { name: 'Yoghurt' });
      const { product: current } = await inv.api.updateProduct({
        product: { id: created.id, etag: created.etag, name: 'Greek yoghurt' },
        updateMask: ['name'],
      });
      await expectGrpcError(
        inv.api.updateProduct({
          product: { id: created.id, etag: created.etag, name: 'Plain yoghurt', description: 'x' },
          updateMask: ['name', 'description'],
        }),
        Code.ABORTED,
      );
      expect((await inv.api.getProduct({ id: created.id })).product).to.deep.equal(current);
    });

    it('of 10 concurrent updates sent with the same etag, exactly one wins; the others are ABORTED', async () => {
      const created = await createTestProduct(inv.api, { name: 'Jam' });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          outcomeOf(inv.api.updateProduct({ product: { id: created.id, etag: created.etag, name: `Jam ${i}` }, updateMask: ['name'] })),
        ),
      );
      expect(tally(outcomes)).to.deep.equal({ OK: 1, ABORTED: 9 });
      const { product } = await inv.api.getProduct({ id: created.id });
      expect(product!.name).to.equal(`Jam ${outcomes.indexOf('OK')}`);
    });

    it('DeleteProduct hides the product from Get and List; show_deleted shows it with delete_time; UndeleteProduct restores it', async () => {
      const tag = newTag();
      const product = await createTestProduct(inv.api, { name: `Cheese ${tag}`, initialStock: 4 });
      const { product: deleted } = await inv.api.deleteProduct({ id: product.id });
      expect(deleted!.deleteTime).to.be.instanceOf(Date);
      expect(deleted!.stockLevel).to.include({ available: 4 });

      await expectGrpcError(inv.api.getProduct({ id: product.id }), Code.NOT_FOUND);
      expect(await listAll(inv.api, { nameContains: tag })).to.deep.equal([]);
      expect((await listAll(inv.api)).map((p) => p.id)).to.not.include(product.id);

      const { product: shown } = await inv.api.getProduct({ id: product.id, showDeleted: true });
      expect(shown!.deleteTime!.getTime()).to.equal(deleted!.deleteTime!.getTime());
      const listed = await listAll(inv.api, { nameContains: tag, showDeleted: true });
      expect(listed.map((p) => p.id)).to.deep.equal([product.id]);
      expect(listed[0]!.deleteTime).to.be.instanceOf(Date);

      const { product: restored } = await inv.api.undeleteProduct({ id: product.id });
      expect(restored!.deleteTime).to.equal(undefined);
      expect((await inv.api.getProduct({ id: product.id })).product!.deleteTime).to.equal(undefined);
      expect((await listAll(inv.api, { nameContains: tag })).map((p) => p.id)).to.deep.equal([product.id]);
      expect(restored!.stockLevel).to.include({ available: 4, reserved: 0, sold: 0 });
    });

    it('deleting a product twice is harmless', async () => {
      const product = await createTestProduct(inv.api);
      const { product: first } = await inv.api.deleteProduct({ id: product.id });
      const { product: second } = await inv.api.deleteProduct({ id: product.id });
      expect(second!.deleteTime!.getTime()).to.equal(first!.deleteTime!.getTime());
      expect(second!.etag).to.equal(first!.etag);
      await expectGrpcError(inv.api.getProduct({ id: product.id }), Code.NOT_FOUND);
      await inv.api.undeleteProduct({ id: product.id });
      await inv.api.undeleteProduct({ id: product.id });
      expect((await inv.api.getProduct({ id: product.id })).product!.deleteTime).to.equal(undefined);
    });

    describe('ListProducts', () => {
      it('returns at most page_size products and an empty next_page_token on the last page', async () => {
        const tag = newTag();
        for (let i = 0; i < 5; i++) await createTestProduct(inv.api, { name: `Pasta ${tag} ${i}` });
        const sizes: number[] = [];
        const tokens: string[] = [];
        let pageToken = '';
        do {
          const page = await inv.api.listProducts({ pageSize: 2, nameContains: tag, pageToken });
          sizes.push(page.products.length);
          tokens.push(page.nextPageToken);
          pageToken = page.nextPageToken;
        } while (pageToken && sizes.length < 10);
        expect(sizes).to.deep.equal([2, 2, 1]);
        expect(tokens[2]).to.equal('');

        // A list that fills its last page exactly ends there, without an empty extra page.
        const page1 = await inv.api.listProducts({ pageSize: 5, nameContains: tag });
        expect(page1.products).to.have.length(5);
        expect(page1.nextPageToken).to.equal('');
      });

      it('walking every page yields every product exactly once, in creation order', async () => {
        for (let i = 0; i < 10; i++) await createTestProduct(inv.api);
        const live: { id: string }[] = await inv.db('products').whereNull('deleted_at').select('id');
        const walked = await listAll(inv.api, { pageSize: 7 });
        const ids = walked.map((p) => p.id);
        expect(ids).to.have.length(new Set(ids).size);
        expect(sorted(ids)).to.deep.equal(sorted(live.map((r) => r.id)));
        const times = walked.map((p) => p.createTime!.getTime());
        expect(times).to.deep.equal([...times].sort((a, b) => a - b));
      });

      it('stays stable while products are inserted: no product that existed before the walk is missed or seen twice', async () => {
        const live = async () =>
          Number((await inv.db('products').whereNull('deleted_at').count<{ count: string }[]>('* as count'))[0]!.count);
        const missing = 60 - (await live());
        for (let i = 0; i < missing; i += 10)
          await Promise.all(Array.from({ length: Math.min(10, missing - i) }, () => createTestProduct(inv.api)));
        const existing = new Set(((await inv.db('products').whereNull('deleted_at').select('id')) as { id: string }[]).map((r) => r.id));
        expect(existing.size).to.be.at.least(60);

        // 30 creates, a few at a time, racing the walk below.
        const inserted: string[] = [];
        let inserterDone = false;
        const inserter = (async () => {
          try {
            for (let i = 0; i < 30; i += 3) {
              const batch = await Promise.all([0, 1, 2].map((j) => createTestProduct(inv.api, { name: `Inserted during walk ${i + j}` })));
              inserted.push(...batch.map((p) => p.id));
            }
          } finally {
            inserterDone = true;
          }
        })();
        const seen: string[] = [];
        let pageToken = '';
        let pages = 0;
        do {
          const page = await inv.api.listProducts({ pageSize: 7, pageToken });
          seen.push(...page.products.map((p) => p.id));
          pageToken = page.nextPageToken;
          pages += 1;
          // Let inserts land between pages: three more before the next page is read.
          while (!inserterDone && inserted.length < pages * 3) await new Promise((r) => setTimeout(r, 2));
        } while (pageToken && pages < 1000);
        await inserter;

        expect(pageToken).to.equal('');
        const counts = new Map<string, number>();
        for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
        const seenTwice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
        const missed = [...existing].filter((id) => !counts.has(id));
        expect(seenTwice, 'seen twice').to.deep.equal([]);
        expect(missed, 'missed').to.deep.equal([]);
        expect(inserted).to.have.length(30);
        // The walk really raced the inserts: some landed before it ended.
        expect(pages).to.be.at.least(9);
      });

      it('filters by name_contains, ignoring case', async () => {
        const tag = newTag();
        const oats = await createTestProduct(inv.api, { name: `Organic Oatmeal-${tag}` });
        const bar = await createTestProduct(inv.api, { name: `OATMEAL-${tag.toUpperCase()} bar` });
        await createTestProduct(inv.api, { name: `Rice-${tag}` });
        const found = await listAll(inv.api, { nameContains: `oAtMeAl-${tag}` });
        expect(sorted(found.map((p) => p.id))).to.deep.equal(sorted([oats.id, bar.id]));
      });

      it("treats '%', '_' (and '\\') in name_contains as literal text, not wildcards", async () => {
        const tag = newTag();
        const percent = await createTestProduct(inv.api, { name: `${tag} 50% off` });
        await createTestProduct(inv.api, { name: `${tag} 50 off` });
        await createTestProduct(inv.api, { name: `${tag} 500 off` });
        const underscore = await createTestProduct(inv.api, { name: `${tag} a_b` });
        await createTestProduct(inv.api, { name: `${tag} axb` });
        const backslash = await createTestProduct(inv.api, { name: `${tag} c\\d` });
        await createTestProduct(inv.api, { name: `${tag} cd` });

        expect((await listAll(inv.api, { nameContains: `${tag} 50%` })).map((p) => p.id)).to.deep.equal([percent.id]);
        expect((await listAll(inv.api, { nameContains: `${tag} a_b` })).map((p) => p.id)).to.deep.equal([underscore.id]);
        expect((await listAll(inv.api, { nameContains: `${tag} c\\d` })).map((p) => p.id)).to.deep.equal([backslash.id]);
        expect(await listAll(inv.api, { nameContains: `${tag}%off` })).to.deep.equal([]);
        expect(await listAll(inv.api, { nameContains: `${tag} _0 off` })).to.deep.equal([]);
      });

      it('filters by category_id', async () => {
        const { category } = await inv.api.createCategory({ category: { name: `Bakery ${newTag()}` } });
        const { category: other } = await inv.api.createCategory({ category: { name: `Frozen ${newTag()}` } });
        const bread = await createTestProduct(inv.api, { categoryIds: [category!.id] });
        const both = await createTestProduct(inv.api, { categoryIds: [category!.id, other!.id] });
        const frozen = await createTestProduct(inv.api, { categoryIds: [other!.id] });
        await createTestProduct(inv.api);
        expect(sorted((await listAll(inv.api, { categoryId: category!.id, pageSize: 1 })).map((p) => p.id))).to.deep.equal(
          sorted([bread.id, both.id]),
        );
        expect(sorted((await listAll(inv.api, { categoryId: other!.id })).map((p) => p.id))).to.deep.equal(sorted([both.id, frozen.id]));
      });

      it('refuses a page token used with different filters (INVALID_ARGUMENT)', async () => {
        const tag = newTag();
        for (let i = 0; i < 3; i++) await createTestProduct(inv.api, { name: `Soup ${tag} ${i}` });
        const first = await inv.api.listProducts({ pageSize: 1, nameContains: tag });
        expect(first.nextPageToken).to.not.equal('');
        const pageToken = first.nextPageToken;

        const { field } = await expectGrpcError(
          inv.api.listProducts({ pageSize: 1, nameContains: `Soup ${tag}`, pageToken }),
          Code.INVALID_ARGUMENT,
        );
        expect(field).to.equal('page_token');
        await expectGrpcError(inv.api.listProducts({ pageSize: 1, pageToken }), Code.INVALID_ARGUMENT);
        await expectGrpcError(
          inv.api.listProducts({ pageSize: 1, nameContains: tag, showDeleted: true, pageToken }),
          Code.INVALID_ARGUMENT,
        );
        await expectGrpcError(
          inv.api.listProducts({ pageSize: 1, nameContains: tag, categoryId: randomUUID(), pageToken }),
          Code.INVALID_ARGUMENT,
        );
        await expectGrpcError(inv.api.listProducts({ pageSize: 1, nameContains: tag, pageToken: 'not-a-token' }), Code.INVALID_ARGUMENT);

        // With the same filters it goes on.
        const second = await inv.api.listProducts({ pageSize: 1, nameContains: tag, pageToken });
        expect(second.products).to.have.length(1);
        expect(second.products[0]!.id).to.not.equal(first.products[0]!.id);
      });
    });
  });

  describe('categories', () => {
    const createCategory = async (name: string, description = '') =>
      (await inv.api.createCategory({ category: { name, description } })).category!;

    it('creates, gets and updates a category', async () => {
      const name = `Dairy ${newTag()}`;
      const created = await createCategory(name, 'Milk and cheese');
      expect(created.id).to.match(UUID);
      expect(created).to.include({ name, description: 'Milk and cheese' });
      expect(created.createTime).to.be.instanceOf(Date);
      expect(created.updateTime).to.be.instanceOf(Date);
      expect((await inv.api.getCategory({ id: created.id })).category).to.deep.equal(created);

      const { category: described } = await inv.api.updateCategory({
        category: { id: created.id, name: 'ignored', description: 'Milk, cheese and butter' },
        updateMask: ['description'],
      });
      expect(described).to.include({ id: created.id, name, description: 'Milk, cheese and butter' });
      expect(described!.createTime).to.deep.equal(created.createTime);
      expect(described!.updateTime!.getTime()).to.be.at.least(created.updateTime!.getTime());

      const renamed = `Dairy products ${newTag()}`;
      const { category: after } = await inv.api.updateCategory({
        category: { id: created.id, name: renamed, description: 'ignored' },
        updateMask: ['name'],
      });
      expect(after).to.include({ name: renamed, description: 'Milk, cheese and butter' });
      expect((await inv.api.getCategory({ id: created.id })).category).to.deep.equal(after);
    });

    it('GetCategory, UpdateCategory and DeleteCategory of an unknown id are NOT_FOUND', async () => {
      await expectGrpcError(inv.api.getCategory({ id: randomUUID() }), Code.NOT_FOUND);
      await expectGrpcError(
        inv.api.updateCategory({ category: { id: randomUUID(), description: 'x' }, updateMask: ['description'] }),
        Code.NOT_FOUND,
      );
      await expectGrpcError(inv.api.deleteCategory({ id: randomUUID() }), Code.NOT_FOUND);
    });

    it('refuses a duplicate name, ignoring case (ALREADY_EXISTS)', async () => {
      const tag = newTag();
      const dairy = await createCategory(`Dairy ${tag}`);
      const { reason } = await expectGrpcError(
        inv.api.createCategory({ category: { name: `DAIRY ${tag.toUpperCase()}` } }),
        Code.ALREADY_EXISTS,
      );
      expect(reason).to.equal('CATEGORY_NAME_TAKEN');
      await expectGrpcError(inv.api.createCategory({ category: { name: `Dairy ${tag}` } }), Code.ALREADY_EXISTS);

      const other = await createCategory(`Drinks ${tag}`);
      await expectGrpcError(
        inv.api.updateCategory({ category: { id: other.id, name: `dairy ${tag}` }, updateMask: ['name'] }),
        Code.ALREADY_EXISTS,
      );
      expect((await inv.api.getCategory({ id: other.id })).category!.name).to.equal(`Drinks ${tag}`);
      expect((await inv.api.getCategory({ id: dairy.id })).category!.name).to.equal(`Dairy ${tag}`);
      const rows = await inv.db('categories').whereRaw('lower(name) = lower(?)', [`Dairy ${tag}`]);
      expect(rows).to.have.length(1);
    });

    it('lists categories by name, a page at a time, each exactly once', async () => {
      const tag = newTag();
      const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'].map((n) => `${tag} ${n}`);
      for (const name of names) await createCategory(name);
      const all: string[] = [];
      const pageSizes: number[] = [];
      let pageToken = '';
      do {
        const page = await inv.api.listCategories({ pageSize: 2, pageToken });
        expect(page.categories.length).to.be.at.most(2);
        pageSizes.push(page.categories.length);
        all.push(...page.categories.map((c) => c.name));
        pageToken = page.nextPageToken;
      } while (pageToken && pageSizes.length < 1000);
      expect(pageToken).to.equal('');
      expect(all).to.have.length(new Set(all).size);
      const total = Number((await inv.db('categories').count<{ count: string }[]>('* as count'))[0]!.count);
      expect(all).to.have.length(total);
      expect(all.filter((n) => n.startsWith(tag))).to.deep.equal(sorted(names));
      const lowered = all.map((n) => n.toLowerCase());
      expect(lowered).to.deep.equal(sorted(lowered));
    });

    it('puts a product in many categories; category_ids round-trip', async () => {
      const tag = newTag();
      const cats = await Promise.all(['Snacks', 'Sweets', 'Vegan', 'Gluten-free'].map((n) => createCategory(`${n} ${tag}`)));
      const ids = cats.map((c) => c.id);
      const product = await createTestProduct(inv.api, { categoryIds: [ids[2]!, ids[0]!, ids[3]!, ids[1]!] });
      expect(sorted(product.categoryIds)).to.deep.equal(sorted(ids));
      expect(sorted((await inv.api.getProduct({ id: product.id })).product!.categoryIds)).to.deep.equal(sorted(ids));
      for (const id of ids) {
        expect((await listAll(inv.api, { categoryId: id })).map((p) => p.id)).to.deep.equal([product.id]);
      }
    });

    it('UpdateProduct with mask category_ids replaces the memberships', async () => {
      const tag = newTag();
      const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((n) => createCategory(`${n} ${tag}`)));
      const product = await createTestProduct(inv.api, { name: `Keep ${tag}`, categoryIds: [a!.id, b!.id] });
      const { product: moved } = await inv.api.updateProduct({
        product: { id: product.id, categoryIds: [c!.id, b!.id], name: 'ignored' },
        updateMask: ['category_ids'],
      });
      expect(sorted(moved!.categoryIds)).to.deep.equal(sorted([b!.id, c!.id]));
      expect(moved!.name).to.equal(`Keep ${tag}`);
      expect(moved!.etag).to.not.equal(product.etag);
      expect(sorted((await inv.api.getProduct({ id: product.id })).product!.categoryIds)).to.deep.equal(sorted([b!.id, c!.id]));
      expect(await listAll(inv.api, { categoryId: a!.id })).to.deep.equal([]);
      expect((await listAll(inv.api, { categoryId: c!.id })).map((p) => p.id)).to.deep.equal([product.id]);

      // An unknown category refuses the whole update: INVALID_ARGUMENT naming the field and the id.
      const unknown = randomUUID();
      const refused = await expectGrpcError(
        inv.api.updateProduct({ product: { id: product.id, categoryIds: [a!.id, unknown] }, updateMask: ['category_ids'] }),
        Code.INVALID_ARGUMENT,
      );
      expect(refused).to.deep.include({ reason: 'CATEGORY_NOT_FOUND', field: 'product.category_ids' });
      expect(refused.error.details).to.include(unknown);
      expect(sorted((await inv.api.getProduct({ id: product.id })).product!.categoryIds)).to.deep.equal(sorted([b!.id, c!.id]));

      const { product: cleared } = await inv.api.updateProduct({
        product: { id: product.id, categoryIds: [] },
        updateMask: ['category_ids'],
      });
      expect(cleared!.categoryIds).to.deep.equal([]);
    });

    it('refuses an unknown category id in CreateProduct and creates nothing', async () => {
      const known = await createCategory(`Known ${newTag()}`);
      const sku = `SKU-${newTag()}`;
      const unknown = randomUUID();
      const refused = await expectGrpcError(createTestProduct(inv.api, { sku, categoryIds: [known.id, unknown] }), Code.INVALID_ARGUMENT);
      expect(refused).to.deep.include({ reason: 'CATEGORY_NOT_FOUND', field: 'product.category_ids' });
      expect(refused.error.details).to.include(unknown);
      expect(await inv.db('products').where({ sku })).to.deep.equal([]);
      expect(await listAll(inv.api, { categoryId: known.id })).to.deep.equal([]);
      // The SKU is still free.
      const created = await createTestProduct(inv.api, { sku, categoryIds: [known.id] });
      expect(created.categoryIds).to.deep.equal([known.id]);
    });

    it('DeleteCategory refuses while products are in it (FAILED_PRECONDITION, CATEGORY_NOT_EMPTY) unless force', async () => {
      const tag = newTag();
      const doomed = await createCategory(`Seasonal ${tag}`);
      const kept = await createCategory(`Staples ${tag}`);
      const p1 = await createTestProduct(inv.api, { categoryIds: [doomed.id, kept.id] });
      const p2 = await createTestProduct(inv.api, { categoryIds: [doomed.id] });

      const { reason } = await expectGrpcError(inv.api.deleteCategory({ id: doomed.id }), Code.FAILED_PRECONDITION);
      expect(reason).to.equal('CATEGORY_NOT_EMPTY');
      expect((await inv.api.getCategory({ id: doomed.id })).category!.id).to.equal(doomed.id);
      expect((await inv.api.getProduct({ id: p2.id })).product!.categoryIds).to.deep.equal([doomed.id]);

      await inv.api.deleteCategory({ id: doomed.id, force: true });
      await expectGrpcError(inv.api.getCategory({ id: doomed.id }), Code.NOT_FOUND);
      expect((await inv.api.getProduct({ id: p1.id })).product!.categoryIds).to.deep.equal([kept.id]);
      expect((await inv.api.getProduct({ id: p2.id })).product!.categoryIds).to.deep.equal([]);
      expect((await listAll(inv.api, { categoryId: kept.id })).map((p) => p.id)).to.deep.equal([p1.id]);

      // An empty category needs no force.
      const empty = await createCategory(`Empty ${tag}`);
      await inv.api.deleteCategory({ id: empty.id });
      await expectGrpcError(inv.api.getCategory({ id: empty.id }), Code.NOT_FOUND);
    });
  });
});
