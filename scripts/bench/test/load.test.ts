import { expect } from 'chai';
import { startChildServer, type ChildServer } from '../servers/child-server.js';
import { BENCH_METHOD_PATH } from '../servers/bench-server.js';
import { runLoad } from '../load/run-load.js';

/** The bench's load generator against real servers: several targets share the calls. */
describe('scripts/bench/load: the load generator', function () {
  this.timeout(60_000);
  const servers: ChildServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('spreads the calls over several targets round robin, one connection each', async () => {
    servers.push(...(await Promise.all([startChildServer('./noop.ts'), startChildServer('./noop.ts')])));
    const result = await runLoad({
      addresses: servers.map((server) => server.address),
      path: BENCH_METHOD_PATH,
      request: { kind: 'fixed', base64: '' },
      concurrency: 8,
      warmupSeconds: 0.2,
      seconds: 1,
    });
    expect(result.errors).to.deep.equal({});
    expect(result.ok).to.be.greaterThan(20);
    expect(result.okByTarget).to.have.length(2);
    expect(result.okByTarget[0]! + result.okByTarget[1]!).to.equal(result.ok);
    // Round robin per call: the two counts differ by the calls of one turn at most (plus the window's edges).
    expect(Math.abs(result.okByTarget[0]! - result.okByTarget[1]!)).to.be.at.most(8 + 2);
  });
});
