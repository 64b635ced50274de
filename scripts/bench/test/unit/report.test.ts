import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReserveStockRequest } from '#libs/contracts/larder/inventory/v1/inventory_service.js';
import { frame } from '../../load/grpc-frame.js';
import { bodyMaker } from '../../load/requests.js';
import { parsePgbench } from '../../pgbench.js';
import { checkGoals } from '../../report/goals.js';
import { PAGE_BEGIN, PAGE_END, writeBenchmarkTable } from '../../report/benchmark-page.js';
import { cpuSplit, postgresCeiling, scaleFigures, scalingChecks } from '../../report/scaling.js';
import { cpuCeiling, goalsTable } from '../../report/table.js';
import type { CaseResult } from '../../result.js';
import { percentile } from '../../stats.js';

/** The parts of the bench that decide its figures, on fixed inputs (no timing here: speed lives in `npm run bench`). */

const PGBENCH_15_WITH_FAILURES = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: scripts/bench/sql/classic-checkout.sql
scaling factor: 1
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 3 s
number of transactions actually processed: 1869
number of failed transactions: 688 (26.907%)
number of serialization failures: 688 (26.907%)
number of deadlock failures: 0 (0.000%)
latency average = 9.158 ms (including failures)
initial connection time = 81.421 ms
tps = 638.494560 (without initial connection time)
`;

const result = (id: string, rps: number, extra: Partial<CaseResult> = {}): CaseResult => ({
  id,
  label: id,
  kind: 'larder',
  rps,
  errors: 0,
  rssMb: {},
  extra: {},
  note: '',
  ...extra,
});

describe('scripts/bench (npm run bench): figures and reports', () => {
  it('reads successful tps, failures and latency from pgbench 15', () => {
    expect(parsePgbench(PGBENCH_15_WITH_FAILURES)).to.deep.equal({
      tps: 638.49456,
      processed: 1869,
      failed: 688,
      failedPercent: 26.907,
      serializationFailures: 688,
      latencyAvgMs: 9.158,
      abortedClients: 0,
    });
  });

  it('refuses pgbench output without a tps line instead of reporting 0', () => {
    expect(() => parsePgbench('pgbench: error: connection to server failed')).to.throw(/printed no tps/);
  });

  it('frames a gRPC message as flag 0, big-endian length, then the bytes', () => {
    const message = Buffer.from(
      ReserveStockRequest.encode(ReserveStockRequest.fromPartial({ orderId: 'o', items: [{ productId: 'p', quantity: 3 }] })).finish(),
    );
    const framed = frame(message);
    expect(framed.readUInt8(0)).to.equal(0);
    expect(framed.readUInt32BE(1)).to.equal(message.length);
    expect(ReserveStockRequest.decode(framed.subarray(5))).to.deep.include({ orderId: 'o' });
  });

  it('gives every ReserveStock call a new order id and cycles through the products', () => {
    const make = bodyMaker({ kind: 'reserveStock', productIds: ['a', 'b'] });
    const calls = [0, 1, 2].map((i) => ReserveStockRequest.decode(make(i).subarray(5)));
    expect(calls.map((call) => call.items[0]!.productId)).to.deep.equal(['a', 'b', 'a']);
    expect(new Set(calls.map((call) => call.orderId)).size).to.equal(3);
  });

  it('takes nearest-rank percentiles', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).to.equal(51);
    expect(percentile(sorted, 99)).to.equal(100);
    expect(percentile(new Float64Array(0), 99)).to.equal(0);
  });

  it('computes the goals as ratios of this run, best pgbench client count included', () => {
    const goals = checkGoals([
      result('noop', 10_000),
      result('reserve-hot', 6_000),
      result('reserve-200', 4_000),
      result('pgbench-bare-1', 3_000),
      result('pgbench-bare-16', 8_000),
      result('pgbench-bare-64', 2_000),
      result('classic-200-64', 3_000),
      result('classic-hot-64', 300),
      result('checkout-200', 900, { extra: { confirmedPerSecond: 600 }, p99: 120 }),
      result('checkout-hot', 800, { extra: { confirmedPerSecond: 250 }, p99: 80, errors: 2 }),
    ]);
    const goal = (prefix: string) => goals.find((g) => g.goal.startsWith(prefix))!;
    expect(goal('ReserveStock 200 products / no-op')).to.include({ value: 0.4, met: false });
    expect(goal('ReserveStock hot / no-op')).to.include({ value: 0.6, met: true });
    expect(goal('ReserveStock hot / pgbench bare UPDATE at 64')).to.include({ value: 3, met: true });
    expect(goal('ReserveStock hot / pgbench bare UPDATE at its best')).to.include({ value: 0.75, met: true });
    expect(goal('checkout confirmed/s, 200')).to.include({ value: 0.2, met: false });
    expect(goal('checkout confirmed/s, hot')).to.deep.include({ met: false });
    expect(goal('checkout failed')).to.include({ value: 2, met: false });
    expect(goal('checkout accept p99')).to.include({ value: 120, met: false });
    expect(goal('ListProducts first page')).to.include({ value: undefined, met: undefined });
  });

  it('compares the catalog cache warm with it off: calls/s, and CPU of the service plus its PostgreSQL backends', () => {
    const goals = checkGoals([
      result('cache-get-off', 1_000, { cpuMsPerCall: { inventory: 2, postgres: 1, generator: 0.5 } }),
      result('cache-get-warm', 4_000, { cpuMsPerCall: { inventory: 0.6, postgres: 0.3, generator: 0.5 } }),
      result('cache-first-page-off', 100, { cpuMsPerCall: { inventory: 8, postgres: 2 } }),
      result('cache-first-page-warm', 200, { cpuMsPerCall: { inventory: 5, postgres: 0 } }),
    ]);
    const goal = (prefix: string) => goals.find((g) => g.goal.startsWith(prefix))!;
    expect(goal('GetProduct calls/s')).to.include({ value: 4, met: true });
    expect(goal('GetProduct CPU').value).to.be.closeTo(0.3, 1e-9);
    expect(goal('GetProduct CPU').met).to.equal(true);
    expect(goal('ListProducts first page calls/s')).to.include({ value: 2, met: false });
    expect(goal('ListProducts first page CPU')).to.include({ value: 0.5, met: false });
  });

  it('writes the benchmark page table only between its markers', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-page-')), 'benchmark.md');
    writeFileSync(path, `# Title\n\nbefore\n${PAGE_BEGIN}\nold table\n${PAGE_END}\nafter\n`);
    writeBenchmarkTable(path, '| new |');
    expect(readFileSync(path, 'utf8')).to.equal(`# Title\n\nbefore\n${PAGE_BEGIN}\n| new |\n${PAGE_END}\nafter\n`);
  });

  it('refuses, naming the file, a benchmark page that is missing or has no markers, and leaves it as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-page-'));
    const missing = join(dir, 'benchmark.md');
    expect(() => writeBenchmarkTable(missing, '| new |')).to.throw(`${missing} does not exist`);
    expect(existsSync(missing)).to.equal(false);
    const unmarked = join(dir, 'unmarked.md');
    writeFileSync(unmarked, 'no markers\n');
    expect(() => writeBenchmarkTable(unmarked, '| new |')).to.throw(`${unmarked} has no ${PAGE_BEGIN}`);
    expect(readFileSync(unmarked, 'utf8')).to.equal('no markers\n');
  });
  it('CPU ceiling: core-milliseconds a second over the CPU all processes spent per call', () => {
    // 0.19 + 0.29 + 0.07 ms per call on 2 cores: at most 2000 / 0.55 calls a second.
    expect(cpuCeiling({ inventory: 0.19, postgres: 0.29, generator: 0.07 }, 2)).to.be.closeTo(3636.4, 0.1);
    expect(cpuCeiling({ server: 0.5 }, 1)).to.equal(2000);
    expect(cpuCeiling(undefined, 2), 'no CPU figures (pgbench rows)').to.equal(undefined);
    expect(cpuCeiling({}, 2)).to.equal(undefined);
  });

  it('scale: splits CPU per call into services (every replica), PostgreSQL and the generator', () => {
    expect(cpuSplit({ 'inventory-1': 0.4, 'inventory-2': 0.3, 'order-1': 1, postgres: 0.5, generator: 0.2 })).to.deep.equal({
      services: 1.7,
      postgres: 0.5,
      generator: 0.2,
    });
    expect(cpuSplit(undefined)).to.deep.equal({ services: 0, postgres: 0, generator: 0 });
  });

  it('scale: PostgreSQL ceiling is 1000 ms per core over its ms per call', () => {
    expect(postgresCeiling(0.5)).to.equal(2000);
    expect(postgresCeiling(0.5, 2)).to.equal(4000);
    expect(postgresCeiling(0)).to.equal(undefined);
  });

  it('scale: adds the share, the ceiling and the connections to a result', () => {
    const row = scaleFigures(
      result('scale-reserve-2', 1000, { cpuMsPerCall: { 'inventory-1': 0.5, 'inventory-2': 0.5, postgres: 0.75, generator: 0.25 } }),
      { openMax: 14, busyMean: 3.25 },
      20,
    );
    expect(row.extra).to.include({
      servicesCpuMsPerCall: 1,
      postgresCpuMsPerCall: 0.75,
      postgresCpuShare: 0.375,
      postgresCeilingPerCore: 4000 / 3,
      pgPoolMax: 20,
      pgConnectionsOpenMax: 14,
      pgConnectionsBusyMean: 3.25,
    });
    expect(row.note)
      .to.match(/38 % postgres/)
      .and.match(/≤ 14 open of 20 pooled/);
  });

  it('scale: informational lines compare 2 replicas with 1 (checkout by confirmed/s) and print without a target', () => {
    const cpu = { 'inventory-1': 1, postgres: 1, generator: 0 };
    const checks = scalingChecks([
      result('scale-reserve-1', 1000, { cpuMsPerCall: cpu, extra: { postgresCpuShare: 0.5 } }),
      result('scale-reserve-2', 1500, { cpuMsPerCall: { ...cpu, postgres: 0.8 }, extra: { postgresCpuShare: 0.25 } }),
      result('scale-checkout-1', 500, { extra: { confirmedPerSecond: 100 } }),
      result('scale-checkout-2', 900, { extra: { confirmedPerSecond: 150 } }),
    ]);
    const check = (part: string) => checks.find((c) => c.goal.includes(part))!;
    expect(check('ReserveStock 200 products, 2 replicas / 1')).to.include({ value: 1.5, target: 'informational' });
    expect(checks.every((c) => c.met === undefined)).to.equal(true);
    expect(check('ReserveStock 200 products, PostgreSQL share')).to.include({ value: 25 });
    expect(check('ReserveStock 200 products, calls/s one PostgreSQL core')).to.include({ value: 1250 });
    expect(check('checkout 200 products, 2 replicas / 1')).to.include({ value: 1.5 });
    expect(check('checkout 200 products, PostgreSQL share').value, 'no CPU figures').to.equal(0);
    expect(
      scalingChecks([]).every((c) => c.value === undefined),
      'scale case not run',
    ).to.equal(true);
    expect(goalsTable(checks)).to.include('| 1250/s | informational | – |').and.include('| 25.0 % | informational | – |');
  });
});
