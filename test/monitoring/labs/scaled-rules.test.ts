import { parse } from 'yaml';
import { defineSite } from '../../../constructs';
import { renderAlertRules } from '../../../constructs/monitoring/alert-rules';
import { metricsEndpoints } from '../../../constructs/monitoring/metrics-endpoints';
import { labPlan } from '../../datastore/lab/patroni-lab';
import { LAB_SITE } from '../../failover/configs';
import { describeWithTools } from '../../support/tools';
import { promtool } from '../cluster/promtool';
import { labScrapeConfig, scaledRules } from './lab-prometheus';

/**
 * The labs' test copy of the generated rules: every `for` and PatroniFailover's window divided by the scale, nothing
 * else changed, and the generator's own output untouched. Pure, plus promtool on the copies (no root needed).
 */
interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: unknown; annotations: unknown }[] }[];
}

describe('the labs\' scaled copy of the generated rules', () => {
  const datastore = labPlan(16);
  const failover = defineSite(LAB_SITE);

  test('divides every for by the scale (at least 1 s) and PatroniFailover\'s notice window, and changes nothing else', () => {
    const generated = parse(renderAlertRules(datastore)) as RuleFile;
    const copy = scaledRules(datastore, ['meta', 'datastore'], 10);
    const scaled = parse(copy.yaml) as RuleFile;
    expect(scaled.groups.map((g) => g.name)).toEqual([`${datastore.name}-meta`, `${datastore.name}-datastore`]);
    const byName = new Map(generated.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    for (const rule of scaled.groups.flatMap((g) => g.rules)) {
      const original = byName.get(rule.alert)!;
      expect({ ...rule, for: undefined, expr: undefined }).toEqual({ ...original, for: undefined, expr: undefined });
      if (rule.alert === 'PatroniFailover') {
        expect(original.expr).toContain('[15m:]');
        expect(rule.expr).toBe(original.expr.replace('[15m:]', '[1m30s:]'));
      } else {
        expect(rule.expr).toBe(original.expr);
      }
    }
    expect(copy.rules.find((r) => r.alert === 'PatroniNoPrimary')).toEqual({ alert: 'PatroniNoPrimary', forSeconds: 60, scaledForSeconds: 6 });
    expect(copy.rules.find((r) => r.alert === 'DatastoreEtcdMembersMissing')).toEqual({ alert: 'DatastoreEtcdMembersMissing', forSeconds: 600, scaledForSeconds: 60 });
    expect(scaled.groups.flatMap((g) => g.rules).find((r) => r.alert === 'Watchdog')!.for).toBeUndefined();
    // The generator's output is the same after scaling (the copy is built from it, never written back).
    expect(renderAlertRules(datastore)).toBe(renderAlertRules(labPlan(16)));
  });

  test('names what it cannot do: an unknown group, a scale below 1', () => {
    expect(() => scaledRules(failover, ['meta', 'datastore'])).toThrow(/rule groups datastore: not generated for site failover-lab/);
    expect(() => scaledRules(failover, ['meta'], 0.5)).toThrow(/ALERT_FOR_SCALE: 0.5 is not a number >= 1/);
  });

  test('the lab scrape config keeps the generated jobs and targets, at the lab interval', () => {
    const endpoints = metricsEndpoints(failover);
    const config = parse(labScrapeConfig(failover, endpoints, 'rules.yml')) as { global: Record<string, string>; scrape_configs: { job_name: string }[] };
    expect(config.global).toMatchObject({ scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' });
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(['node', 'haproxy', 'cluster-etcd']);
  });
});

describeWithTools(['promtool'], 'promtool on the labs\' copies', () => {
  test.each([
    ['failover', () => scaledRules(defineSite(LAB_SITE), ['meta', 'load-balancers']).yaml],
    ['datastore', () => scaledRules(labPlan(16), ['meta', 'datastore']).yaml],
  ])('%s lab rules pass promtool check rules', (_name, rules) => {
    const result = promtool(['check', 'rules', 'rules.yml'], { 'rules.yml': rules() });
    expect(result.output).toContain('SUCCESS');
    expect(result.status).toBe(0);
  });
});
