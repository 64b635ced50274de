import { expect } from 'chai';
import { ConfigError } from '#libs/config/env.js';
import { readTestCommonConfig as read } from '#libs/config/test/unit/read-common.js';
import { CRASH_POINTS, crashPoints, parseCrashSetting, type CrashPoint } from '../../crash-points.js';

describe('crash points (libs/process/crash-points, LARDER_CRASH_AT)', () => {
  it('reads <point> as its first hit and <point>:<hit> as that hit', () => {
    expect(parseCrashSetting('relay-mid-batch')).to.deep.equal({ point: 'relay-mid-batch', hit: 1 });
    expect(parseCrashSetting('payment-captured:7')).to.deep.equal({ point: 'payment-captured', hit: 7 });
  });

  for (const bad of [
    '',
    'nowhere',
    'relay-mid-batch:0',
    'relay-mid-batch:-1',
    'relay-mid-batch:2.5',
    'relay-mid-batch:x',
    'reserve-answered:1:2',
  ])
    it(`refuses "${bad}", saying what is allowed`, () => {
      expect(() => parseCrashSetting(bad)).to.throw(/point among|whole number/);
    });

  it('is off unless LARDER_CRASH_AT is set, and parsed from it when it is', () => {
    expect(read({}).crashAt).to.equal(undefined);
    expect(read({ LARDER_CRASH_AT: 'order-confirmed:3' }).crashAt).to.deep.equal({ point: 'order-confirmed', hit: 3 });
  });

  it('is refused in production, naming the variable', () => {
    const env = { NODE_ENV: 'production', API_KEYS: 'ops=ops-key-0123456789:*', LARDER_CRASH_AT: 'reserve-answered' };
    expect(() => read(env))
      .to.throw(ConfigError, /test-only/)
      .with.property('variable', 'LARDER_CRASH_AT');
  });

  it('names the variable when the value is bad', () => {
    expect(() => read({ LARDER_CRASH_AT: 'somewhere' }))
      .to.throw(ConfigError)
      .with.property('variable', 'LARDER_CRASH_AT');
  });

  it('kills on exactly the chosen hit of the chosen point, and only once', () => {
    const kills: number[] = [];
    let reached = 0;
    const points = crashPoints({ point: 'consumer-after-commit', hit: 3 }, () => kills.push(reached));
    const visit = (point: CrashPoint) => {
      reached += 1;
      points.reached(point);
    };
    visit('consumer-after-commit'); // 1
    visit('relay-mid-batch'); // another point does not count
    visit('consumer-after-commit'); // 2
    expect(kills).to.deep.equal([]);
    visit('consumer-after-commit'); // 3: dies here
    visit('consumer-after-commit');
    expect(kills).to.deep.equal([4]);
  });

  it('does nothing at all without a setting', () => {
    const points = crashPoints(undefined, () => {
      throw new Error('killed');
    });
    for (const point of Object.keys(CRASH_POINTS) as CrashPoint[]) points.reached(point);
  });
});
