import { expect } from 'chai';
import { distanceKm, rankLocations, servesDestination } from '../../domain/locations/rank-locations.js';
import type { DestinationRecord as Destination, LatLngRecord as LatLng, RoutingLocation as Loc } from '../../domain/location-types.js';

/** A delivering, active location delivering everywhere, unless the fields say otherwise. */
const loc = (code: string, fields: Partial<Loc> = {}): Loc => ({
  id: `id-${code}`,
  code,
  delivery: true,
  pickup: false,
  active: true,
  deleted: false,
  isDefault: false,
  priority: 0,
  postalCodePrefixes: [],
  radiusKm: 0,
  ...fields,
});
const area = (postalCodePrefixes: string[], radiusKm = 0) => ({ postalCodePrefixes, radiusKm });

// Berlin: the destination at Alexanderplatz, and points at known distances from it.
const ALEX: LatLng = { latitude: 52.5219, longitude: 13.4132 };
const MITTE: LatLng = { latitude: 52.52, longitude: 13.405 }; // ≈ 0.6 km
const KREUZBERG: LatLng = { latitude: 52.499, longitude: 13.403 }; // ≈ 2.6 km
const SPANDAU: LatLng = { latitude: 52.535, longitude: 13.2 }; // ≈ 14.5 km
const HAMBURG: LatLng = { latitude: 53.5511, longitude: 9.9937 }; // ≈ 255 km

describe('routing: distanceKm (haversine)', () => {
  const cases: [string, LatLng, LatLng, number, number][] = [
    ['the same point', ALEX, ALEX, 0, 1e-9],
    ['Alexanderplatz to Mitte', ALEX, MITTE, 0.61, 0.05],
    ['Alexanderplatz to Spandau', ALEX, SPANDAU, 14.5, 0.3],
    ['Berlin to Hamburg', ALEX, HAMBURG, 255.5, 2],
    ['a quarter of the equator', { latitude: 0, longitude: 0 }, { latitude: 0, longitude: 90 }, 10_007.5, 1],
    ['pole to pole', { latitude: 90, longitude: 0 }, { latitude: -90, longitude: 0 }, 20_015.1, 1],
    ['across the antimeridian', { latitude: 0, longitude: 179.5 }, { latitude: 0, longitude: -179.5 }, 111.2, 0.5],
  ];
  for (const [name, a, b, km, tolerance] of cases) {
    it(`${name}: ${km} km, the same both ways`, () => {
      expect(distanceKm(a, b)).to.be.closeTo(km, tolerance);
      expect(distanceKm(b, a)).to.be.closeTo(distanceKm(a, b), 1e-9);
    });
  }
});

describe('routing: servesDestination', () => {
  const cases: [string, Loc, Destination, boolean][] = [
    ['no area (no prefixes, radius 0) serves a postal code', loc('w'), { postalCode: '10178' }, true],
    ['no area serves coordinates alone', loc('w'), { coordinates: ALEX }, true],
    ['a matching postal prefix', loc('s', area(['101', '102'])), { postalCode: '10178' }, true],
    ['a prefix that does not match', loc('s', area(['102'])), { postalCode: '10178' }, false],
    ['a prefix longer than the code', loc('s', area(['101789'])), { postalCode: '10178' }, false],
    ['prefixes compare ignoring case and spaces', loc('s', area(['sw1a'])), { postalCode: 'SW1A 1AA' }, true],
    ['spaces in the prefix are ignored too', loc('s', area(['SW1 A'])), { postalCode: 'sw1a1aa' }, true],
    ['prefixes and no postal code in the destination', loc('s', area(['101'])), { coordinates: ALEX }, false],
    ['within the radius', loc('s', { ...area([], 1), coordinates: MITTE }), { coordinates: ALEX }, true],
    ['outside the radius', loc('s', { ...area([], 2), coordinates: KREUZBERG }), { coordinates: ALEX }, false],
    ['a radius and a destination without coordinates', loc('s', { ...area([], 50), coordinates: MITTE }), { postalCode: '10178' }, false],
    ['a radius and a location without coordinates', loc('s', area([], 50)), { coordinates: ALEX }, false],
    [
      'prefix or radius: the prefix matches',
      loc('s', { ...area(['101'], 1), coordinates: SPANDAU }),
      { postalCode: '10178', coordinates: ALEX },
      true,
    ],
    [
      'prefix or radius: the radius matches',
      loc('s', { ...area(['999'], 1), coordinates: MITTE }),
      { postalCode: '10178', coordinates: ALEX },
      true,
    ],
    [
      'prefix or radius: neither',
      loc('s', { ...area(['999'], 1), coordinates: SPANDAU }),
      { postalCode: '10178', coordinates: ALEX },
      false,
    ],
    ['not delivering', loc('s', { delivery: false }), { postalCode: '10178' }, false],
    ['inactive', loc('s', { active: false }), { postalCode: '10178' }, false],
    ['deleted', loc('s', { deleted: true }), { postalCode: '10178' }, false],
  ];
  for (const [name, location, destination, serves] of cases) {
    it(`${name}: ${serves ? 'serves' : 'does not serve'}`, () => {
      expect(servesDestination(location, destination)).to.equal(serves);
    });
  }
});

describe('routing: rankLocations', () => {
  const codes = (ranked: Loc[]) => ranked.map((l) => l.code);
  const cases: [string, Loc[], Destination | undefined, string[]][] = [
    [
      'nearest first, whatever the priority',
      [
        loc('far', { coordinates: SPANDAU, priority: 100 }),
        loc('near', { coordinates: MITTE }),
        loc('mid', { coordinates: KREUZBERG, priority: 5 }),
      ],
      { coordinates: ALEX },
      ['near', 'mid', 'far'],
    ],
    [
      'a tie by distance goes to the higher priority',
      [
        loc('a', { coordinates: MITTE, priority: 1 }),
        loc('b', { coordinates: MITTE, priority: 7 }),
        loc('c', { coordinates: SPANDAU, priority: 9 }),
      ],
      { coordinates: ALEX },
      ['b', 'a', 'c'],
    ],
    [
      'a tie by distance and priority goes to the lower code (code points, not locale: upper case first)',
      [
        loc('b', { coordinates: MITTE }),
        loc('a', { coordinates: MITTE }),
        loc('B', { coordinates: MITTE }),
        loc('a-2', { coordinates: MITTE }),
      ],
      { coordinates: ALEX },
      ['B', 'a', 'a-2', 'b'],
    ],
    [
      'an unknown distance comes after every known one, even a far one',
      [loc('unknown', { priority: 1000 }), loc('far', { coordinates: HAMBURG, priority: -1000 }), loc('near', { coordinates: MITTE })],
      { coordinates: ALEX },
      ['near', 'far', 'unknown'],
    ],
    [
      'unknown distances among themselves: priority, then code',
      [loc('z', { priority: 2 }), loc('y'), loc('x', { priority: 2 }), loc('near', { coordinates: MITTE })],
      { coordinates: ALEX },
      ['near', 'x', 'z', 'y'],
    ],
    [
      'a destination without coordinates: every distance unknown, priority then code',
      [loc('b', { coordinates: MITTE }), loc('c', { coordinates: SPANDAU, priority: 3 }), loc('a', { coordinates: MITTE })],
      { postalCode: '10178' },
      ['c', 'a', 'b'],
    ],
    [
      'only the locations that serve the destination',
      [
        loc('prefix-ok', { ...area(['101']), coordinates: SPANDAU }),
        loc('prefix-no', { ...area(['20']), coordinates: MITTE }),
        loc('radius-ok', { ...area([], 1), coordinates: MITTE }),
        loc('radius-no', { ...area([], 1), coordinates: KREUZBERG }),
        loc('everywhere'),
        loc('no-delivery', { delivery: false, coordinates: MITTE }),
        loc('inactive', { active: false, coordinates: MITTE }),
        loc('deleted', { deleted: true, coordinates: MITTE }),
      ],
      { postalCode: '10178', coordinates: ALEX },
      ['radius-ok', 'prefix-ok', 'everywhere'],
    ],
    ['none serves: empty', [loc('s', area(['9']))], { postalCode: '10178' }, []],
    [
      'no destination: every active, not deleted location (delivering or not) by priority, then code',
      [
        loc('b', { coordinates: MITTE }),
        loc('pickup-only', { delivery: false, priority: 5 }),
        loc('a', { coordinates: SPANDAU }),
        loc('top', { priority: 10, ...area(['999']) }),
        loc('inactive', { active: false, priority: 99 }),
        loc('deleted', { deleted: true, priority: 99 }),
        loc('low', { priority: -3 }),
      ],
      undefined,
      ['top', 'pickup-only', 'a', 'b', 'low'],
    ],
    ['no locations', [], { coordinates: ALEX }, []],
  ];
  for (const [name, locations, destination, expected] of cases) {
    it(`${name}: ${expected.join(', ') || '(none)'}`, () => {
      const input = [...locations];
      expect(codes(rankLocations(locations, destination))).to.deep.equal(expected);
      expect(locations, 'the input is not reordered').to.deep.equal(input);
    });
  }

  it('the order does not depend on the order of the input', () => {
    const locations = [
      loc('c', { coordinates: MITTE, priority: 1 }),
      loc('a', { coordinates: MITTE, priority: 1 }),
      loc('b', { coordinates: MITTE, priority: 2 }),
      loc('d', { priority: 2 }),
      loc('e', { coordinates: KREUZBERG }),
    ];
    const expected = ['b', 'a', 'c', 'e', 'd'];
    for (let shift = 0; shift < locations.length; shift++) {
      const rotated = [...locations.slice(shift), ...locations.slice(0, shift)];
      expect(codes(rankLocations(rotated, { coordinates: ALEX }))).to.deep.equal(expected);
      expect(codes(rankLocations([...rotated].reverse(), { coordinates: ALEX }))).to.deep.equal(expected);
    }
  });
});
