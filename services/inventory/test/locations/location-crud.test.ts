import { randomBytes, randomUUID } from 'node:crypto';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { LocationCreated, LocationUpdated } from '#libs/contracts/larder/inventory/v1/events.js';
import { LocationKind, type Location } from '#libs/contracts/larder/inventory/v1/locations.js';
import { expectGrpcError } from '#test/support/grpc-errors.js';
import { startTestInventory, WAREHOUSE_KEY, type InventoryApi, type TestInventory } from '../harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const { LOCATION_KIND_DARK_STORE: DARK_STORE, LOCATION_KIND_STORE: STORE, LOCATION_KIND_WAREHOUSE: WAREHOUSE } = LocationKind;

/** A short random tag that makes codes unique to one test. */
const newTag = () => `t${randomBytes(4).toString('hex')}`;

/** A dark store with everything set, for round trips. */
const darkStore = (code: string): Partial<Location> => ({
  code,
  name: 'Berlin Mitte dark store',
  kind: DARK_STORE,
  address: { line1: 'Torstraße 1', line2: 'Hof 2', city: 'Berlin', postalCode: '10119', countryCode: 'DE' },
  coordinates: { latitude: 52.5291, longitude: 13.4013 },
  delivery: true,
  pickup: false,
  deliveryArea: { postalCodePrefixes: ['101', '104'], radiusKm: 4.5 },
  priority: 10,
});

/** Every location ListLocations returns for this request, walking all its pages. */
async function listAllLocations(api: InventoryApi, request: { pageSize?: number; showDeleted?: boolean } = {}) {
  const locations: Location[] = [];
  let pageToken = '';
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await api.listLocations({ pageSize: 100, ...request, pageToken });
    locations.push(...page.locations);
    if (!page.nextPageToken) return locations;
    pageToken = page.nextPageToken;
  }
  throw new Error('ListLocations never returned an empty next_page_token');
}

describe('locations', function () {
  this.timeout(30_000);
  let inv: TestInventory;

  before(async () => {
    inv = await startTestInventory();
  });
  after(async () => inv?.stop());

  /** The decoded outbox events of one subject about this location. */
  async function eventsAbout<T extends { location?: Location }>(subject: string, codec: { decode(b: Uint8Array): T }, id: string) {
    const rows: { payload: Buffer }[] = await inv.db('outbox').where({ subject }).orderBy('created_at').select('payload');
    return rows.map((row) => codec.decode(new Uint8Array(row.payload))).filter((event) => event.location?.id === id);
  }

  const create = async (location: Partial<Location>) => (await inv.api.createLocation({ location })).location!;

  describe('CreateLocation and GetLocation', () => {
    it('creates a location with every field, an id, an etag and times, and GetLocation returns the same', async () => {
      const code = `ber-${newTag()}`;
      const before = Date.now();
      const created = await create(darkStore(code));
      expect(created.id).to.match(UUID);
      expect(created).to.deep.include({ ...darkStore(code), active: true, default: false, etag: '1', deleteTime: undefined });
      expect(created.createTime!.getTime()).to.be.within(before - 1000, Date.now() + 1000);
      expect(created.updateTime).to.deep.equal(created.createTime);
      expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(created);
      expect((await inv.api.getLocation({ id: created.id.toUpperCase() })).location).to.deep.equal(created);
    });

    it('defaults: active unless active=false is sent; no coordinates, no address and no area stay empty', async () => {
      const minimal = await create({ code: `min-${newTag()}`, name: 'Minimal', kind: WAREHOUSE });
      expect(minimal).to.deep.include({ active: true, delivery: false, pickup: false, priority: 0, coordinates: undefined });
      expect(minimal.address).to.deep.equal({ line1: '', line2: '', city: '', postalCode: '', countryCode: '' });
      expect(minimal.deliveryArea).to.deep.equal({ postalCodePrefixes: [], radiusKm: 0 });
      const inactive = await create({ code: `off-${newTag()}`, name: 'Off', kind: STORE, active: false });
      expect(inactive.active).to.equal(false);
    });

    it('trims names and codes it stores', async () => {
      const code = `trim-${newTag()}`;
      const created = await create({ code: `  ${code} `, name: '  Spaced  ', kind: STORE });
      expect(created).to.include({ code, name: 'Spaced' });
    });

    it("refuses a taken code, a deleted location's too: ALREADY_EXISTS, LOCATION_CODE_TAKEN naming location.code; nothing is written", async () => {
      const code = `dup-${newTag()}`;
      const first = await create({ code, name: 'First', kind: STORE });
      const count = async () => Number((await inv.db('locations').count<{ n: string }[]>('* as n'))[0]!.n);
      const rowsBefore = await count();
      const { reason, field, info } = await expectGrpcError(
        inv.api.createLocation({ location: { code, name: 'Second', kind: STORE } }),
        Code.ALREADY_EXISTS,
      );
      expect({ reason, field, code: info!.metadata.code }).to.deep.equal({ reason: 'LOCATION_CODE_TAKEN', field: 'location.code', code });
      await inv.api.deleteLocation({ id: first.id });
      expect(
        (await expectGrpcError(inv.api.createLocation({ location: { code, name: 'Third', kind: STORE } }), Code.ALREADY_EXISTS)).reason,
      ).to.equal('LOCATION_CODE_TAKEN');
      expect(await count()).to.equal(rowsBefore);
      expect(await eventsAbout('inventory.location.created', LocationCreated, first.id)).to.have.length(1);
    });

    it('GetLocation of an unknown id: NOT_FOUND, LOCATION_NOT_FOUND naming it', async () => {
      const id = randomUUID();
      const { reason, info, error } = await expectGrpcError(inv.api.getLocation({ id }), Code.NOT_FOUND);
      expect(reason).to.equal('LOCATION_NOT_FOUND');
      expect(info!.metadata.id).to.equal(id);
      expect(error.details).to.include(id);
    });

    it('the migrations made the default location: code "default", default, active, delivering everywhere', async () => {
      const all = await listAllLocations(inv.api);
      const defaults = all.filter((location) => location.default);
      expect(defaults).to.have.length(1);
      expect(defaults[0]).to.deep.include({ code: 'default', active: true, delivery: true, kind: WAREHOUSE });
      expect(defaults[0]!.deliveryArea).to.deep.equal({ postalCodePrefixes: [], radiusKm: 0 });
    });

    it('publishes inventory.location.created with the location, in the same transaction', async () => {
      const created = await create(darkStore(`evt-${newTag()}`));
      const events = await eventsAbout('inventory.location.created', LocationCreated, created.id);
      expect(events).to.have.length(1);
      expect(events[0]!.location).to.deep.equal(created);
      expect(events[0]!.metadata!.source).to.equal('inventory');
    });
  });

  describe('ListLocations', () => {
    it('pages by code (keyset), each location once, deleted ones only with show_deleted', async () => {
      const tag = newTag();
      const codes = ['c', 'A', 'b', 'a-1', 'B', 'a', 'd'].map((c) => `${tag}-${c}`);
      const made = new Map<string, Location>();
      for (const code of codes) made.set(code, await create({ code, name: code, kind: STORE }));
      await inv.api.deleteLocation({ id: made.get(`${tag}-b`)!.id });

      const ours = (locations: Location[]) => locations.map((l) => l.code).filter((c) => c.startsWith(tag));
      const byCodePoint = (values: string[]) => [...values].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const live = byCodePoint(codes.filter((c) => c !== `${tag}-b`));

      for (const pageSize of [1, 2, 3, 50]) {
        const all = await listAllLocations(inv.api, { pageSize });
        expect(ours(all), `page size ${pageSize}`).to.deep.equal(live);
        expect(new Set(all.map((l) => l.id)).size).to.equal(all.length);
        expect(all.map((l) => l.code)).to.deep.equal(byCodePoint(all.map((l) => l.code)));
      }
      const withDeleted = await listAllLocations(inv.api, { pageSize: 2, showDeleted: true });
      expect(ours(withDeleted)).to.deep.equal(byCodePoint(codes));
      expect(withDeleted.find((l) => l.code === `${tag}-b`)!.deleteTime).to.be.instanceOf(Date);
    });

    it('a page of the default size, and the last page has no next_page_token', async () => {
      const page = await inv.api.listLocations({});
      expect(page.locations.length).to.be.within(1, 50);
      const all = await listAllLocations(inv.api);
      if (all.length <= 50) expect(page.nextPageToken).to.equal('');
    });

    it('refuses a page token used with other show_deleted: INVALID_ARGUMENT naming page_token', async () => {
      for (let i = 0; i < 2; i++) await create({ code: `tok-${newTag()}`, name: 'Token', kind: STORE });
      const first = await inv.api.listLocations({ pageSize: 1 });
      expect(first.nextPageToken).to.not.equal('');
      const { field } = await expectGrpcError(
        inv.api.listLocations({ pageSize: 1, pageToken: first.nextPageToken, showDeleted: true }),
        Code.INVALID_ARGUMENT,
      );
      expect(field).to.equal('page_token');
    });
  });

  describe('UpdateLocation', () => {
    it('changes only the masked fields, bumps the etag and update_time; code stays', async () => {
      const created = await create(darkStore(`upd-${newTag()}`));
      const { location } = await inv.api.updateLocation({
        location: { id: created.id, code: 'ignored', name: 'Renamed', priority: -5, pickup: true, delivery: false, kind: STORE },
        updateMask: ['name', 'priority', 'pickup'],
      });
      expect(location).to.deep.include({
        name: 'Renamed',
        priority: -5,
        pickup: true,
        delivery: true,
        kind: DARK_STORE,
        code: created.code,
        etag: '2',
      });
      expect(location!.address).to.deep.equal(created.address);
      expect(location!.deliveryArea).to.deep.equal(created.deliveryArea);
      expect(location!.updateTime!.getTime()).to.be.at.least(created.updateTime!.getTime());
      expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(location);
    });

    it('replaces address, coordinates and delivery_area as wholes; an absent one in the mask clears it', async () => {
      const created = await create(darkStore(`whole-${newTag()}`));
      const { location } = await inv.api.updateLocation({
        location: { id: created.id, address: { city: 'Potsdam' }, deliveryArea: { postalCodePrefixes: ['144'] } },
        updateMask: ['address', 'delivery_area', 'coordinates'],
      });
      expect(location!.address).to.deep.equal({ line1: '', line2: '', city: 'Potsdam', postalCode: '', countryCode: '' });
      expect(location!.deliveryArea).to.deep.equal({ postalCodePrefixes: ['144'], radiusKm: 0 });
      expect(location!.coordinates).to.equal(undefined);
    });

    it('deactivates and reactivates with active', async () => {
      const created = await create({ code: `act-${newTag()}`, name: 'Act', kind: STORE });
      const off = await inv.api.updateLocation({ location: { id: created.id, active: false }, updateMask: ['active'] });
      expect(off.location!.active).to.equal(false);
      const on = await inv.api.updateLocation({ location: { id: created.id, active: true }, updateMask: ['active'] });
      expect(on.location!.active).to.equal(true);
    });

    it('with the current etag it updates; with a stale one ABORTED, ETAG_MISMATCH, and nothing changes', async () => {
      const created = await create({ code: `etag-${newTag()}`, name: 'Etag', kind: STORE });
      const { location } = await inv.api.updateLocation({ location: { id: created.id, name: 'One', etag: '1' }, updateMask: ['name'] });
      expect(location!.etag).to.equal('2');
      const { reason, info } = await expectGrpcError(
        inv.api.updateLocation({ location: { id: created.id, name: 'Stale', etag: '1' }, updateMask: ['name'] }),
        Code.ABORTED,
      );
      expect(reason).to.equal('ETAG_MISMATCH');
      expect(info!.metadata.etag).to.equal('2');
      expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(location);
    });

    it('a radius needs coordinates: INVALID_ARGUMENT naming the field the update changed', async () => {
      const created = await create(darkStore(`rad-${newTag()}`));
      const removing = await expectGrpcError(
        inv.api.updateLocation({ location: { id: created.id }, updateMask: ['coordinates'] }),
        Code.INVALID_ARGUMENT,
      );
      expect(removing.field).to.equal('location.coordinates');
      const plain = await create({ code: `rad-${newTag()}`, name: 'No coordinates', kind: STORE });
      const adding = await expectGrpcError(
        inv.api.updateLocation({ location: { id: plain.id, deliveryArea: { radiusKm: 3 } }, updateMask: ['delivery_area'] }),
        Code.INVALID_ARGUMENT,
      );
      expect(adding.field).to.equal('location.delivery_area.radius_km');
      // Both at once is fine.
      const { location } = await inv.api.updateLocation({
        location: { id: plain.id, deliveryArea: { radiusKm: 3 }, coordinates: { latitude: 1, longitude: 2 } },
        updateMask: ['delivery_area', 'coordinates'],
      });
      expect(location!.deliveryArea!.radiusKm).to.equal(3);
      expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(created);
    });

    it('an unknown id is NOT_FOUND; a deleted location FAILED_PRECONDITION, LOCATION_DELETED', async () => {
      const unknown = await expectGrpcError(
        inv.api.updateLocation({ location: { id: randomUUID(), name: 'x' }, updateMask: ['name'] }),
        Code.NOT_FOUND,
      );
      expect(unknown.reason).to.equal('LOCATION_NOT_FOUND');
      const created = await create({ code: `gone-${newTag()}`, name: 'Gone', kind: STORE });
      await inv.api.deleteLocation({ id: created.id });
      const deleted = await expectGrpcError(
        inv.api.updateLocation({ location: { id: created.id, active: true }, updateMask: ['active'] }),
        Code.FAILED_PRECONDITION,
      );
      expect(deleted.reason).to.equal('LOCATION_DELETED');
      expect((await inv.api.getLocation({ id: created.id })).location!.active).to.equal(false);
    });

    it('the default location cannot be deactivated (LOCATION_IS_DEFAULT) but can be renamed', async () => {
      const defaultLocation = (await listAllLocations(inv.api)).find((l) => l.default)!;
      const { reason } = await expectGrpcError(
        inv.api.updateLocation({ location: { id: defaultLocation.id, active: false }, updateMask: ['active'] }),
        Code.FAILED_PRECONDITION,
      );
      expect(reason).to.equal('LOCATION_IS_DEFAULT');
      const { location } = await inv.api.updateLocation({
        location: { id: defaultLocation.id, name: 'Central warehouse' },
        updateMask: ['name'],
      });
      expect(location).to.include({ name: 'Central warehouse', active: true, default: true, code: 'default' });
    });

    it('publishes inventory.location.updated with the location after the change and the mask as changed_fields', async () => {
      const created = await create(darkStore(`evu-${newTag()}`));
      const { location } = await inv.api.updateLocation({
        location: { id: created.id, name: 'Evented', priority: 3 },
        updateMask: ['name', 'priority'],
      });
      const events = await eventsAbout('inventory.location.updated', LocationUpdated, created.id);
      expect(events).to.have.length(1);
      expect(events[0]!.location).to.deep.equal(location);
      expect(events[0]!.changedFields).to.deep.equal(['name', 'priority']);
    });
  });

  describe('scopes', () => {
    it('a catalog.read key reads locations; writing them needs locations.write (PERMISSION_DENIED, SCOPE_MISSING)', async () => {
      const warehouse = inv.clientWith(WAREHOUSE_KEY);
      const created = await create({ code: `scope-${newTag()}`, name: 'Scoped', kind: STORE });
      expect((await warehouse.getLocation({ id: created.id })).location!.id).to.equal(created.id);
      await warehouse.listLocations({ pageSize: 1 });
      for (const call of [
        warehouse.createLocation({ location: { code: `denied-${newTag()}`, name: 'Denied', kind: STORE } }),
        warehouse.updateLocation({ location: { id: created.id, name: 'Hijacked' }, updateMask: ['name'] }),
        warehouse.deleteLocation({ id: created.id }),
      ]) {
        const { reason, info } = await expectGrpcError(call, Code.PERMISSION_DENIED);
        expect({ reason, scope: info!.metadata.scope }).to.deep.equal({ reason: 'SCOPE_MISSING', scope: 'locations.write' });
      }
      expect((await inv.api.getLocation({ id: created.id })).location).to.deep.equal(created);
    });
  });
});
