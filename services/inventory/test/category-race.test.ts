import { status as Code, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { errorInfoOf } from '#libs/grpc/status.js';
import { createTestProduct, startTestInventory, type TestInventory } from './harness.js';

/** What a caller sees of a failed call: status, message and ErrorInfo. */
async function refusalOf(call: Promise<unknown>) {
  const error = await call.then(
    () => expect.fail('the call should have been refused'),
    (caught: ServiceError) => caught,
  );
  const info = errorInfoOf(error);
  return { code: Code[error.code], details: error.details, reason: info?.reason, domain: info?.domain, metadata: info?.metadata };
}

/**
 * CreateProduct and UpdateProduct check that every category exists, then insert
 * the memberships. A DeleteCategory that commits in between makes the insert's
 * foreign key refuse the row. The test makes that interleaving happen every time:
 * a trigger of its own database deletes a category named "Doomed …" just before
 * its membership row goes in, after the check has seen it.
 */
describe('a category deleted between the check and the membership insert', function () {
  this.timeout(30_000);
  let inv: TestInventory;
  let serial = 0;

  before(async () => {
    inv = await startTestInventory();
    await inv.db.raw(`
      create function delete_category_first() returns trigger language plpgsql as $$
      begin
        delete from categories where id = new.category_id and name like 'Doomed %';
        return new;
      end $$`);
  });
  after(async () => inv?.stop());

  async function categoryDeletedAtInsert<T>(work: () => Promise<T>): Promise<T> {
    await inv.db.raw(
      'create trigger category_deleted_at_insert before insert on product_categories for each row execute function delete_category_first()',
    );
    try {
      return await work();
    } finally {
      await inv.db.raw('drop trigger category_deleted_at_insert on product_categories');
    }
  }

  async function newCategory(name: 'Doomed' | 'Kept') {
    serial += 1;
    return (await inv.api.createCategory({ category: { name: `${name} ${process.pid}-${serial}` } })).category!;
  }

  it('CreateProduct gives the answer of the category already gone: INVALID_ARGUMENT, CATEGORY_NOT_FOUND, the field and the id', async () => {
    const category = await newCategory('Doomed');
    const sku = `RACE-${process.pid}-${category.id}`;
    const create = () => createTestProduct(inv.api, { sku, categoryIds: [category.id] });

    const raced = await categoryDeletedAtInsert(() => refusalOf(create()));
    expect(await inv.db('products').where({ sku })).to.deep.equal([]);

    // The trigger's delete rolled back with the call: now delete it for real, and ask again.
    await inv.api.deleteCategory({ id: category.id });
    const gone = await refusalOf(create());
    expect(gone).to.deep.include({ code: 'INVALID_ARGUMENT', reason: 'CATEGORY_NOT_FOUND' });
    expect(gone.details).to.include(category.id);
    expect(raced).to.deep.equal(gone);
  });

  it('UpdateProduct gives the answer of the category already gone, and changes nothing', async () => {
    const kept = await newCategory('Kept');
    const category = await newCategory('Doomed');
    const product = await createTestProduct(inv.api, { categoryIds: [kept.id] });
    const update = () =>
      inv.api.updateProduct({ product: { id: product.id, categoryIds: [kept.id, category.id] }, updateMask: ['category_ids'] });

    const raced = await categoryDeletedAtInsert(() => refusalOf(update()));
    expect((await inv.api.getProduct({ id: product.id })).product).to.deep.equal(product);

    await inv.api.deleteCategory({ id: category.id });
    const gone = await refusalOf(update());
    expect(gone).to.deep.include({ code: 'INVALID_ARGUMENT', reason: 'CATEGORY_NOT_FOUND' });
    expect(gone.details).to.include(category.id);
    expect(raced).to.deep.equal(gone);
  });
});
