import { expect } from 'chai';
import { isUuid, uuidv7 } from '../../uuid.js';

/** The 48-bit Unix-millisecond prefix of a v7 UUID. */
const timeOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('libs/ids/uuid', () => {
  describe('isUuid', () => {
    it('accepts canonical UUIDs of any version, in either case', () => {
      expect(isUuid('00000000-0000-0000-0000-000000000000')).to.equal(true);
      expect(isUuid('f47ac10b-58cc-4372-a567-0e02b2c3d479')).to.equal(true);
      expect(isUuid('F47AC10B-58CC-4372-A567-0E02B2C3D479')).to.equal(true);
    });

    it('refuses other shapes', () => {
      for (const bad of [
        '',
        'f47ac10b58cc4372a5670e02b2c3d479',
        'f47ac10b-58cc-4372-a567-0e02b2c3d47',
        'g47ac10b-58cc-4372-a567-0e02b2c3d479',
        ' f47ac10b-58cc-4372-a567-0e02b2c3d479',
      ]) {
        expect(isUuid(bad), bad).to.equal(false);
      }
    });
  });

  describe('uuidv7', () => {
    it('makes canonical lower-case UUIDs that isUuid accepts', () => {
      const id = uuidv7();
      expect(isUuid(id)).to.equal(true);
      expect(id).to.equal(id.toLowerCase());
    });

    it('sets version 7 and the RFC 9562 variant', () => {
      for (let i = 0; i < 200; i++) {
        const id = uuidv7();
        expect(id[14], id).to.equal('7');
        expect('89ab', id).to.contain(id[19]!);
      }
    });

    it('stores the given time in the first 48 bits', () => {
      const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
      expect(timeOf(uuidv7(now))).to.equal(now);
      expect(timeOf(uuidv7(0))).to.equal(0);
      expect(uuidv7(0).startsWith('00000000-0000-7')).to.equal(true);
      expect(timeOf(uuidv7(2 ** 48 - 1))).to.equal(2 ** 48 - 1);
    });

    it('uses the current time by default', () => {
      const before = Date.now();
      const time = timeOf(uuidv7());
      expect(time).to.be.within(before, Date.now());
    });

    it('sorts ids made at increasing milliseconds in increasing string order', () => {
      const start = Date.UTC(2025, 5, 1);
      // Steps that carry across byte and nibble boundaries of the timestamp.
      const times = [
        0,
        1,
        15,
        16,
        255,
        256,
        65_535,
        65_536,
        start,
        start + 1,
        start + 255,
        start + 256,
        2 ** 40 - 1,
        2 ** 40,
        2 ** 48 - 1,
      ].sort((a, b) => a - b);
      const ids = times.map((t) => uuidv7(t));
      expect([...ids].sort()).to.deep.equal(ids);
      for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`).to.equal(true);
    });

    it('sorts by time regardless of the random bits', () => {
      for (let i = 0; i < 200; i++) {
        const t = 1_700_000_000_000 + i;
        expect(uuidv7(t) < uuidv7(t + 1)).to.equal(true);
      }
    });

    it('makes 1000 distinct ids, also within one millisecond', () => {
      const now = Date.now();
      expect(new Set(Array.from({ length: 1000 }, () => uuidv7(now))).size).to.equal(1000);
      expect(new Set(Array.from({ length: 1000 }, () => uuidv7())).size).to.equal(1000);
    });
  });
});
