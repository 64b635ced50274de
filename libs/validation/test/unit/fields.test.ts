import { expect } from 'chai';
import { ReservationStatus } from '#libs/contracts/larder/inventory/v1/resources.js';
import {
  currencyCode,
  distinctUuids,
  durationMs,
  enumValue,
  integer,
  listSize,
  maskPaths,
  optionalUuid,
  pageSize,
  requireUuid,
  text,
} from '../../fields.js';
import { expectInvalid } from '#test/support/expect-app-error.js';

const ID = '0190a6e2-7c3b-7def-8abc-0123456789ab';
const OTHER_ID = '0190a6e2-7c3b-7def-8abc-ba9876543210';

describe('libs/validation/fields', () => {
  describe('requireUuid', () => {
    it('returns a valid lower-case UUID unchanged', () => {
      expect(requireUuid('id', ID)).to.equal(ID);
    });

    it('normalises an upper-case UUID to lower case', () => {
      expect(requireUuid('id', ID.toUpperCase())).to.equal(ID);
    });

    it('refuses a missing value as required, naming the field', () => {
      expect(expectInvalid(() => requireUuid('product_id', undefined), 'product_id').message).to.match(/is required/);
      expectInvalid(() => requireUuid('product_id', ''), 'product_id');
    });

    it('refuses malformed UUIDs', () => {
      for (const bad of ['not-a-uuid', ID.slice(0, -1), `${ID}0`, ID.replace(/-/g, ''), `{${ID}}`, ID.replace('a', 'g'), ` ${ID}`]) {
        expect(expectInvalid(() => requireUuid('items[0].product_id', bad), 'items[0].product_id').message).to.match(/must be a UUID/);
      }
    });

    it('truncates a long malformed value in the message', () => {
      const error = expectInvalid(() => requireUuid('id', 'x'.repeat(500)), 'id');
      expect(error.message.length).to.be.below(120);
    });
  });

  describe('optionalUuid', () => {
    it('passes absence through and validates presence', () => {
      expect(optionalUuid('category_id', undefined)).to.equal(undefined);
      expect(optionalUuid('category_id', '')).to.equal(undefined);
      expect(optionalUuid('category_id', ID.toUpperCase())).to.equal(ID);
      expectInvalid(() => optionalUuid('category_id', 'nope'), 'category_id');
    });
  });

  describe('text', () => {
    it('trims surrounding white space', () => {
      expect(text('name', '  Oat milk \n\t', { max: 10 })).to.equal('Oat milk');
    });

    it('treats a missing value as empty when min is 0', () => {
      expect(text('description', undefined, { max: 10 })).to.equal('');
    });

    it('refuses an empty or blank value when a minimum is set', () => {
      expect(expectInvalid(() => text('name', undefined, { min: 1, max: 10 }), 'name').message).to.match(/is required/);
      expectInvalid(() => text('name', '   ', { min: 1, max: 10 }), 'name');
    });

    it('refuses text shorter than min after trimming', () => {
      expect(expectInvalid(() => text('name', '  ab  ', { min: 3, max: 10 }), 'name').message).to.match(/at least 3/);
      expect(text('name', '  abc  ', { min: 3, max: 10 })).to.equal('abc');
    });

    it('accepts exactly max characters and refuses max + 1', () => {
      expect(text('name', 'abcde', { max: 5 })).to.equal('abcde');
      expect(expectInvalid(() => text('name', 'abcdef', { max: 5 }), 'name').message).to.match(/at most 5/);
    });

    it('counts code points, so an emoji is one character', () => {
      const emoji = '🍎'; // two UTF-16 units, one code point
      expect(emoji.length).to.equal(2);
      expect(text('name', emoji.repeat(5), { max: 5 })).to.equal(emoji.repeat(5));
      expectInvalid(() => text('name', emoji.repeat(6), { max: 5 }), 'name');
      expect(text('name', emoji.repeat(2), { min: 2, max: 2 })).to.equal(emoji.repeat(2));
      expectInvalid(() => text('name', emoji, { min: 2, max: 5 }), 'name');
    });

    it('refuses C0 control characters and DEL', () => {
      for (const control of ['\u0000', '\u0007', '\u0008', '\u000b', '\u000c', '\u001b', '\u001f', '\u007f']) {
        const error = expectInvalid(() => text('name', `a${control}b`, { max: 10 }), 'name');
        expect(error.message).to.match(/control characters/);
      }
    });

    it('allows newlines, carriage returns and tabs inside the text', () => {
      expect(text('description', 'line one\nline two\r\n\tindented', { max: 100 })).to.equal('line one\nline two\r\n\tindented');
    });
  });

  describe('integer', () => {
    it('returns an integer within bounds, inclusive', () => {
      expect(integer('quantity', 1, { min: 1, max: 10 })).to.equal(1);
      expect(integer('quantity', 10, { min: 1, max: 10 })).to.equal(10);
    });

    it('reads a missing value as 0', () => {
      expect(integer('delta', undefined, { min: -5, max: 5 })).to.equal(0);
      expectInvalid(() => integer('quantity', undefined, { min: 1, max: 10 }), 'quantity');
    });

    it('refuses non-integers', () => {
      for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
        expect(expectInvalid(() => integer('quantity', bad, { min: 0, max: Number.MAX_SAFE_INTEGER + 10 }), 'quantity').message).to.match(
          /integer/,
        );
      }
    });

    it('refuses values outside the bounds', () => {
      expect(expectInvalid(() => integer('quantity', 0, { min: 1, max: 10 }), 'quantity').message).to.match(/between 1 and 10, got 0/);
      expectInvalid(() => integer('quantity', 11, { min: 1, max: 10 }), 'quantity');
      expectInvalid(() => integer('quantity', -1, { min: 0, max: 10 }), 'quantity');
    });
  });

  describe('enumValue', () => {
    it('accepts a known, specified value', () => {
      expect(enumValue('status', ReservationStatus.RESERVATION_STATUS_COMMITTED, ReservationStatus)).to.equal(
        ReservationStatus.RESERVATION_STATUS_COMMITTED,
      );
    });

    it('refuses 0 (UNSPECIFIED) and a missing value as required', () => {
      expect(expectInvalid(() => enumValue('status', 0, ReservationStatus), 'status').message).to.match(/is required/);
      expectInvalid(() => enumValue('status', undefined, ReservationStatus), 'status');
    });

    it('refuses unknown numbers, including UNRECOGNIZED (-1)', () => {
      expect(expectInvalid(() => enumValue('status', 99, ReservationStatus), 'status').message).to.match(/unknown value 99/);
      expectInvalid(() => enumValue('status', -1, ReservationStatus), 'status');
    });

    it('honours a custom unspecified value', () => {
      const Colour = { RED: 1, GREEN: 2 } as const;
      expectInvalid(() => enumValue('colour', 1, Colour, 1), 'colour');
      expect(enumValue('colour', 2, Colour, 1)).to.equal(2);
    });
  });

  describe('listSize', () => {
    it('accepts a list within bounds', () => {
      expect(listSize('items', [1, 2], { min: 1, max: 2 })).to.deep.equal([1, 2]);
    });

    it('refuses an empty or missing list when min is 1', () => {
      expect(expectInvalid(() => listSize('items', [], { min: 1, max: 5 }), 'items').message).to.match(/must not be empty/);
      expectInvalid(() => listSize('items', undefined, { min: 1, max: 5 }), 'items');
    });

    it('refuses too few entries when min is above 1', () => {
      expect(expectInvalid(() => listSize('items', [1], { min: 2, max: 5 }), 'items').message).to.match(/at least 2/);
    });

    it('refuses too many entries', () => {
      expect(expectInvalid(() => listSize('items', [1, 2, 3], { min: 0, max: 2 }), 'items').message).to.match(/at most 2 entries, got 3/);
    });
  });

  describe('distinctUuids', () => {
    it('returns the ids lower-cased, in order', () => {
      expect(distinctUuids('product_ids', [ID.toUpperCase(), OTHER_ID])).to.deep.equal([ID, OTHER_ID]);
    });

    it('names the index of a repeated id', () => {
      const error = expectInvalid(() => distinctUuids('product_ids', [ID, OTHER_ID, ID]), 'product_ids[2]');
      expect(error.message).to.contain(`repeats ${ID}`);
    });

    it('treats ids differing only in case as repeats', () => {
      expectInvalid(() => distinctUuids('product_ids', [ID, ID.toUpperCase()]), 'product_ids[1]');
    });

    it('names the index of a malformed id', () => {
      expectInvalid(() => distinctUuids('product_ids', [ID, 'bad']), 'product_ids[1]');
      expectInvalid(() => distinctUuids('product_ids', ['']), 'product_ids[0]');
    });
  });

  describe('currencyCode', () => {
    it('accepts three upper-case letters', () => {
      expect(currencyCode('price.currency_code', 'EUR')).to.equal('EUR');
    });

    it('refuses a missing code', () => {
      expectInvalid(() => currencyCode('price.currency_code', undefined), 'price.currency_code');
      expectInvalid(() => currencyCode('price.currency_code', ''), 'price.currency_code');
    });

    it('refuses lower-case, wrong-length or non-letter codes', () => {
      for (const bad of ['eur', 'EU', 'EURO', 'E1R', ' EUR', 'EUR\n']) {
        expectInvalid(() => currencyCode('price.currency_code', bad), 'price.currency_code');
      }
    });
  });

  describe('durationMs', () => {
    const bounds = { minMs: 1_000, maxMs: 3_600_000 };

    it('leaves an absent duration undefined', () => {
      expect(durationMs('ttl', undefined, bounds)).to.equal(undefined);
    });

    it('converts seconds and nanos to whole milliseconds', () => {
      expect(durationMs('ttl', { seconds: 90, nanos: 500_000_000 }, bounds)).to.equal(90_500);
      expect(durationMs('ttl', { seconds: 1, nanos: 1_999_999 }, bounds)).to.equal(1_001);
    });

    it('accepts the bounds themselves', () => {
      expect(durationMs('ttl', { seconds: 1, nanos: 0 }, bounds)).to.equal(1_000);
      expect(durationMs('ttl', { seconds: 3_600, nanos: 0 }, bounds)).to.equal(3_600_000);
    });

    it('refuses durations below min or above max', () => {
      expect(expectInvalid(() => durationMs('ttl', { seconds: 0, nanos: 999_999_999 }, bounds), 'ttl').message).to.match(
        /between 1s and 3600s/,
      );
      expectInvalid(() => durationMs('ttl', { seconds: 3_601, nanos: 0 }, bounds), 'ttl');
      expectInvalid(() => durationMs('ttl', { seconds: -5, nanos: 0 }, bounds), 'ttl');
    });

    it('refuses negative or out-of-range nanos', () => {
      expect(expectInvalid(() => durationMs('ttl', { seconds: 10, nanos: -1 }, bounds), 'ttl').message).to.match(/not a valid duration/);
      expectInvalid(() => durationMs('ttl', { seconds: 10, nanos: 1_000_000_000 }, bounds), 'ttl');
    });

    it('refuses non-finite seconds', () => {
      expectInvalid(() => durationMs('ttl', { seconds: Number.POSITIVE_INFINITY, nanos: 0 }, bounds), 'ttl');
      expectInvalid(() => durationMs('ttl', { seconds: Number.NaN, nanos: 0 }, bounds), 'ttl');
    });
  });

  describe('pageSize', () => {
    it('reads 0 or absent as the default', () => {
      expect(pageSize('page_size', 0)).to.equal(50);
      expect(pageSize('page_size', undefined)).to.equal(50);
      expect(pageSize('page_size', 0, { fallback: 20 })).to.equal(20);
    });

    it('passes a size up to max through', () => {
      expect(pageSize('page_size', 1)).to.equal(1);
      expect(pageSize('page_size', 1000)).to.equal(1000);
      expect(pageSize('page_size', 10, { max: 10 })).to.equal(10);
    });

    it('refuses a negative size', () => {
      expect(expectInvalid(() => pageSize('page_size', -1), 'page_size').message).to.match(/negative/);
    });

    it('refuses a size over max', () => {
      expectInvalid(() => pageSize('page_size', 1001), 'page_size');
      expect(expectInvalid(() => pageSize('page_size', 11, { max: 10 }), 'page_size').message).to.match(/at most 10/);
    });
  });

  describe('maskPaths', () => {
    const allowed = ['name', 'description', 'price'];

    it('returns allowed paths', () => {
      expect(maskPaths('update_mask', ['name', 'price'], allowed)).to.deep.equal(['name', 'price']);
    });

    it('refuses an empty or missing mask, listing the allowed paths', () => {
      const error = expectInvalid(() => maskPaths('update_mask', [], allowed), 'update_mask');
      expect(error.message).to.contain('name, description, price');
      expectInvalid(() => maskPaths('update_mask', undefined, allowed), 'update_mask');
    });

    it('refuses a path the update does not support', () => {
      const error = expectInvalid(() => maskPaths('update_mask', ['name', 'sku'], allowed), 'update_mask');
      expect(error.message).to.contain('"sku"');
    });

    it('collapses duplicate paths', () => {
      expect(maskPaths('update_mask', ['name', 'price', 'name', 'name'], allowed)).to.deep.equal(['name', 'price']);
    });
  });
});
