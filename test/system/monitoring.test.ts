import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { OrderStatus } from '#libs/contracts/larder/order/v1/resources.js';
import { loadCompose } from '#test/support/container-files.js';
import { promqlNames } from '#test/support/promql-names.js';
import { runProcess } from '#test/support/run-process.js';
import { scrapeMetrics, scrapeTypes } from '#test/support/scrape.js';
import { createProduct, hasStatus, startSystem, waitForOrder, type TestSystem } from '../../services/order/test/system.js';

/**
 * deploy/prometheus/alerts.yml and deploy/grafana/larder.json against the real
 * thing: promtool validates the rules and runs their unit tests, and every
 * metric and label they name is checked against a scrape of both services
 * running as processes (a renamed metric or label would otherwise leave an
 * alert that can never fire, silently).
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const PROMETHEUS_DIR = `${ROOT}deploy/prometheus`;
/** Series Prometheus adds itself: `up` per target, and job/instance on every scraped series. */
const SYNTHETIC_METRICS = new Set(['up']);
const TARGET_LABELS = new Set(['job', 'instance']);

interface Rule {
  alert: string;
  expr: string;
}
const rules = (parseYaml(readFileSync(`${PROMETHEUS_DIR}/alerts.yml`, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const ruleTests = parseYaml(readFileSync(`${PROMETHEUS_DIR}/alerts.test.yml`, 'utf8')) as {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
};
const dashboard = JSON.parse(readFileSync(`${ROOT}deploy/grafana/larder.json`, 'utf8')) as {
  panels: { title: string; targets?: { expr: string }[] }[];
};
const expressions = [
  ...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
];

const promtool = (...args: string[]) => runProcess('promtool', args, { cwd: PROMETHEUS_DIR, timeoutMs: 60_000 });

describe('monitoring: alert rules and the dashboard', function () {
  this.timeout(120_000);

  it('promtool accepts the rules and the Prometheus configuration that loads them', async () => {
    const checked = await promtool('check', 'rules', 'alerts.yml');
    expect(checked.code, checked.stdout + checked.stderr).to.equal(0);
    expect(checked.stdout).to.include(`SUCCESS: ${rules.length} rules found`);
    const config = await promtool('check', 'config', 'prometheus.yml');
    expect(config.code, config.stdout + config.stderr).to.equal(0);
  });

  it('promtool test rules passes, and every alert has a case where it fires and one where it stays quiet', async () => {
    const run = await promtool('test', 'rules', 'alerts.test.yml');
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(run.stdout).to.include('SUCCESS');
    const cases = ruleTests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} is tested firing`,
      ).to.equal(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} is tested quiet`,
      ).to.equal(true);
    }
  });

  it("compose's monitoring profile mounts these files, and Prometheus scrapes each service's METRICS_PORT", () => {
    const compose = loadCompose();
    const mounts = (name: string) =>
      (compose.service(name).volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.target));
    for (const name of ['prometheus', 'grafana']) {
      expect(compose.service(name).profiles).to.deep.equal(['monitoring']);
      for (const source of mounts(name)) expect(existsSync(`${ROOT}${source}`), source).to.equal(true);
    }
    const config = parseYaml(readFileSync(`${PROMETHEUS_DIR}/prometheus.yml`, 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const service of ['inventory', 'order']) {
      expect(targets).to.include(`${service}:${compose.environment(service).METRICS_PORT}`);
    }
  });

  describe('against a scrape of both services', () => {
    let system: TestSystem;
    /** Metric name → the label names its series carry, across both services. */
    const exported = new Map<string, Set<string>>();
    /** Metric family name (a histogram's, not its _bucket series') → its # TYPE, across both services. */
    const types = new Map<string, string>();

    before(async () => {
      system = await startSystem();
      // Traffic so that every labelled counter has a series: a checkout that confirms, one refused call.
      const product = await createProduct(system, 5);
      const { order } = await system.orders.createOrder({
        customerId: randomUUID(),
        idempotencyKey: randomUUID(),
        paymentToken: 'tok_ok',
        items: [{ productId: product.id, quantity: 1 }],
      });
      await waitForOrder(system, order!.id, hasStatus(OrderStatus.ORDER_STATUS_CONFIRMED));
      for (const port of [system.inventoryMetricsPort, system.orderMetricsPort]) {
        for (const key of (await scrapeMetrics(port)).keys()) {
          const brace = key.indexOf('{');
          const name = brace < 0 ? key : key.slice(0, brace);
          const labels = exported.get(name) ?? new Set<string>();
          for (const match of (brace < 0 ? '' : key.slice(brace)).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(match[1]!);
          exported.set(name, labels);
        }
        for (const [name, type] of await scrapeTypes(port)) types.set(name, type);
      }
    });
    after(async () => system?.stop());

    it('the dashboard and the rules have expressions to check', () => {
      expect(rules.length).to.be.at.least(9);
      expect(dashboard.panels.filter((p) => p.targets?.length).length).to.be.at.least(10);
    });

    it('what they read with rate() or increase() is a counter named *_total (or a histogram series)', () => {
      const problems: string[] = [];
      for (const { where, expr } of expressions) {
        for (const [, metric] of expr.matchAll(/\b(?:rate|irate|increase)\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g)) {
          const histogram = /^(.*)_(?:bucket|count|sum)$/.exec(metric!)?.[1];
          if (histogram !== undefined && types.get(histogram) === 'histogram') continue;
          if (types.get(metric!) !== 'counter') problems.push(`${where}: ${metric} is a ${types.get(metric!) ?? 'metric not exported'}`);
          else if (!metric!.endsWith('_total')) problems.push(`${where}: counter ${metric} does not end in _total`);
        }
      }
      expect(problems).to.deep.equal([]);
    });

    it('every metric they name is exported, with every label they match on or group by', () => {
      const problems: string[] = [];
      for (const { where, expr } of expressions) {
        const { selectors, grouping } = promqlNames(expr);
        const available = new Set(TARGET_LABELS);
        for (const [metric, labels] of selectors) {
          if (SYNTHETIC_METRICS.has(metric)) continue;
          const carried = exported.get(metric);
          if (!carried) {
            problems.push(`${where}: metric ${metric} is not exported`);
            continue;
          }
          for (const label of carried) available.add(label);
          for (const label of labels) {
            if (!carried.has(label) && !TARGET_LABELS.has(label)) problems.push(`${where}: ${metric} has no label ${label}`);
          }
        }
        for (const label of grouping) {
          if (!available.has(label)) problems.push(`${where}: groups by ${label}, which none of its metrics carries`);
        }
      }
      expect(problems).to.deep.equal([]);
    });
  });
});
