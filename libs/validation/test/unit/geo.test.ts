import { expect } from 'chai';
import { coordinates, routablePostalCode } from '../../geo.js';
import { expectInvalid } from '#test/support/expect-app-error.js';

describe('libs/validation/geo', () => {
  describe('coordinates', () => {
    it('returns unset as undefined and in-range values unchanged', () => {
      expect(coordinates('c', undefined)).to.equal(undefined);
      expect(coordinates('c', { latitude: -90, longitude: 180 })).to.deep.equal({ latitude: -90, longitude: 180 });
      expect(coordinates('c', { latitude: 52.52, longitude: 13.405 })).to.deep.equal({ latitude: 52.52, longitude: 13.405 });
    });

    for (const [name, value, field] of [
      ['latitude 90.0001', { latitude: 90.0001, longitude: 0 }, 'c.latitude'],
      ['latitude -91', { latitude: -91, longitude: 0 }, 'c.latitude'],
      ['longitude 180.5', { latitude: 0, longitude: 180.5 }, 'c.longitude'],
      ['latitude NaN', { latitude: Number.NaN, longitude: 0 }, 'c.latitude'],
      ['longitude -Infinity', { latitude: 0, longitude: Number.NEGATIVE_INFINITY }, 'c.longitude'],
    ] as const) {
      it(`refuses ${name}, naming ${field}`, () => {
        expectInvalid(() => coordinates('c', value), field);
      });
    }
  });

  describe('routablePostalCode', () => {
    it('accepts letters, digits, spaces and dashes, trimmed', () => {
      expect(routablePostalCode('p', ' SW1A 1AA ')).to.equal('SW1A 1AA');
      expect(routablePostalCode('p', '10115')).to.equal('10115');
      expect(routablePostalCode('p', '1234-567')).to.equal('1234-567');
    });

    for (const [name, value] of [
      ['empty', ''],
      ['17 characters', '1'.repeat(17)],
      ['a slash', '10/115'],
      ['non-ASCII', 'Ä1'],
    ] as const) {
      it(`refuses ${name}`, () => {
        expectInvalid(() => routablePostalCode('p', value), 'p');
      });
    }
  });
});
