import { stringify } from 'yaml';
import { MonitoringStack } from '../../../constructs/k8s/monitoring-stack';
import { dashboardRows, renderDashboard } from '../../../constructs/monitoring/dashboard';
import { SitePlan } from '../../../constructs/site/plan';
import { loadSites } from '../../../sites';
import { one, synth, testChart } from '../../k8s/manifests';
import { schemaErrors } from '../../support/k8s-schema';
import { describeWithTools } from '../../support/tools';
import { promtool } from './promtool';

const sites = loadSites();
const titles = (site: SitePlan) => dashboardRows(site).map((row) => row.title);

describe('the site dashboard', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: rows for the parts the site has, panels that do not overlap', (_name, site) => {
    expect(titles(site).includes('PostgreSQL (Patroni)')).toBe(site.postgres !== undefined);
    expect(titles(site).includes('DNS (Bind9)')).toBe(site.dns !== undefined);
    expect(titles(site).includes('Load balancers')).toBe(site.loadBalancer !== undefined);
    expect(titles(site)).toContain('Nodes');
    const panels = renderDashboard(site).panels as { gridPos: { x: number; y: number; w: number; h: number } }[];
    const cells = panels.flatMap((panel) => Array.from({ length: panel.gridPos.h }, (_, dy) => Array.from({ length: panel.gridPos.w }, (__, dx) => `${panel.gridPos.x + dx},${panel.gridPos.y + dy}`)).flat());
    expect(new Set(cells).size).toBe(cells.length);
  });

  test('the plan\'s counts are the threshold lines: 2 load balancers and 3 datastore etcd members on homelab', () => {
    const homelab = sites.find((site) => site.name === 'homelab')!;
    const panels = dashboardRows(homelab).flatMap((row) => row.panels);
    expect(panels.find((panel) => panel.title.startsWith('HAProxy up'))?.expected).toBe(2);
    expect(dashboardRows(homelab).find((row) => row.title === 'Datastore etcd')?.panels[0].expected).toBe(3);
  });

  test('a labelled ConfigMap Grafana\'s sidecar loads, valid against Kubernetes 1.36', () => {
    const configMap = one(synth(new MonitoringStack(testChart(), 'Monitoring', { site: sites[0] })), 'ConfigMap', `${sites[0].name}-dashboard`);
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(schemaErrors(configMap)).toEqual([]);
    expect(JSON.parse(configMap.data[`${sites[0].name}-redundancy.json`])).toEqual(renderDashboard(sites[0]));
  });
});

describeWithTools(['promtool'], 'dashboard queries', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: every panel query is valid PromQL (promtool check rules)', (_name, site) => {
    // Each query as a recording rule: promtool parses its expression.
    const rules = { groups: [{ name: 'dashboard', rules: dashboardRows(site).flatMap((row) => row.panels).map((panel, i) => ({ record: `dashboard:panel_${i}`, expr: panel.expr })) }] };
    const result = promtool(['check', 'rules', 'rules.yml'], { 'rules.yml': stringify(rules) });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});
