import { parse } from 'yaml';
import { renderAlertSection } from '../../../constructs/monitoring/alert-table';
import { AlertSeverity, omittedAlerts, prometheusRuleGroups, renderAlertRules, siteAlertRuleGroups } from '../../../constructs/monitoring/alert-rules';
import { SitePlan } from '../../../constructs/site/plan';
import { DatastoreKind } from '../../../constructs/site/spec';
import { SiteSpec, defineSite } from '../../../constructs';
import { calendarIntervalSeconds } from '../../../constructs/monitoring/calendar-interval';
import { longestScheduleGapSeconds } from '../../../constructs/monitoring/snapshot-schedule';
import { loadSites } from '../../../sites';
import kubeadmStackedSpec from '../../../sites/kubeadm-stacked';
import labSpec from '../../../sites/lab';
import homelabSpec from '../../../sites/homelab';
import { describeWithTools } from '../../support/tools';
import { promtool } from './promtool';
import { promtoolTestFile, scenariosFor } from './alert-scenarios';

/** The seed sites have no backup section: two of them with one, so the backup rule is generated and tested too. */
const withBackup = (spec: SiteSpec): SitePlan => defineSite({ ...spec, name: `${spec.name}-backup`, backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' } } } as SiteSpec);
const backupSites = [withBackup(kubeadmStackedSpec), withBackup(labSpec), withBackup(homelabSpec)];
const sites = [...loadSites(), ...backupSites];
const alertNames = (plan: SitePlan) => siteAlertRuleGroups(plan).flatMap((group) => group.rules.map((rule) => rule.alert));

describe('alert rules from the plan', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: only the rules that apply, with the site\'s numbers', (_name, site) => {
    const names = alertNames(site);
    expect(names).toContain('Watchdog');
    expect(new Set(names).size).toBe(names.length);
    expect(names.some((name) => name.startsWith('Patroni'))).toBe(site.controlPlane.datastore === DatastoreKind.POSTGRES);
    expect(names.some((name) => name.startsWith('DatastoreEtcd'))).toBe(site.postgres !== undefined);
    expect(names.some((name) => name.startsWith('ClusterEtcd'))).toBe(site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD);
    expect(names.some((name) => name.startsWith('Dns'))).toBe(site.dns !== undefined);
    expect(names.includes('VipHasNoHolder')).toBe(site.apiEndpoint.floating);
    const rules = siteAlertRuleGroups(site).flatMap((group) => group.rules);
    const loadBalancersDown = rules.find((rule) => rule.alert === 'LoadBalancersDown');
    expect(loadBalancersDown?.summary).toBe(site.loadBalancer ? `{{ $value }} of ${site.loadBalancer.nodes.length} load balancers up.` : undefined);
    for (const rule of rules) {
      expect({ alert: rule.alert, runbook: /Do: \S/.test(rule.description) }).toEqual({ alert: rule.alert, runbook: true });
    }
  });

  test('etcd members expected are the plan\'s count: 3 datastore etcd members on homelab (2 nodes + witness)', () => {
    const homelab = sites.find((site) => site.name === 'homelab')!;
    const rule = siteAlertRuleGroups(homelab).flatMap((group) => group.rules).find((r) => r.alert === 'DatastoreEtcdMembersMissing')!;
    expect(homelab.postgres!.etcdMembers).toHaveLength(3);
    expect(rule.expr).toBe('(sum(etcd_server_has_leader{job="datastore-etcd"}) or vector(0)) < 3');
    expect(rule.summary).toContain('quorum needs 2');
  });

  test('BackupTooOld on sites with a backup job, bounded at twice its schedule; named as omitted elsewhere', () => {
    const rule = (site: SitePlan) => siteAlertRuleGroups(site).flatMap((group) => group.rules).find((r) => r.alert === 'BackupTooOld');
    const [kubeadm, k3s] = backupSites;
    const kubeadmBound = 2 * calendarIntervalSeconds(kubeadm.backup!.etcd.calendar);
    expect(kubeadmBound).toBe(12 * 3600);
    expect(rule(kubeadm)!.expr).toBe(`(time() - pkh_backup_last_success_timestamp_seconds{job="node", kind="etcd"} > ${kubeadmBound})`);
    expect(rule(kubeadm)!.description).toContain(`etcd: older than 12h, twice the schedule "${kubeadm.backup!.etcd.calendar}"`);
    expect(rule(kubeadm)!.description).toContain('systemctl start pkh-etcd-backup.service');
    const k3sBound = 2 * longestScheduleGapSeconds(k3s.controlPlane.etcdSnapshotScheduleCron);
    expect(rule(k3s)!.expr).toBe(`(time() - pkh_backup_last_success_timestamp_seconds{job="node", kind="etcd"} > ${k3sBound})`);
    expect(rule(k3s)!.description).toContain(`twice the schedule "${k3s.controlPlane.etcdSnapshotScheduleCron}"`);
    for (const site of loadSites()) {
      expect(rule(site)).toBeUndefined();
      expect(omittedAlerts(site).find((omitted) => omitted.alert === 'BackupTooOld')?.reason).toMatch(/no backup section/);
    }
    expect(omittedAlerts(kubeadm).map((omitted) => omitted.alert)).not.toContain('BackupTooOld');
    const never = siteAlertRuleGroups(kubeadm).flatMap((group) => group.rules).find((r) => r.alert === 'BackupNeverSucceeded')!;
    expect(never.expr).toBe('(label_replace(up{job="node", instance=~"controlplane1|controlplane2|controlplane3"} == 1, "kind", "etcd", "", "") '
      + 'unless on(instance, kind) pkh_backup_last_success_timestamp_seconds{job="node", kind="etcd"})');
    expect(never.forSeconds).toBe(kubeadmBound);
  });

  test('the datastore\'s pgBackRest job: one alert for the datastore nodes, on the freshest success of either (only the primary backs up)', () => {
    const homelab = backupSites[2];
    const rules = siteAlertRuleGroups(homelab).flatMap((group) => group.rules);
    // The shorter of the two schedules' longest gaps: differentials Monday to Saturday leave 48 h from Saturday to Monday.
    const bound = 2 * 48 * 3600;
    expect(rules.find((r) => r.alert === 'BackupTooOld')!.expr)
      .toBe(`(label_replace(time() - max by (kind) (pkh_backup_last_success_timestamp_seconds{job="node", kind="postgres"}), "instance", "pg-node-1, pg-node-2", "", "") > ${bound})`);
    expect(rules.find((r) => r.alert === 'BackupNeverSucceeded')!.expr)
      .toBe('(label_replace(label_replace(count(up{job="node", instance=~"pg-node-1|pg-node-2"} == 1) > 0, "kind", "postgres", "", ""), "instance", "pg-node-1, pg-node-2", "", "") '
        + 'unless on(kind) count by (kind) (pkh_backup_last_success_timestamp_seconds{job="node", kind="postgres"}))');
    expect(rules.find((r) => r.alert === 'BackupTooOld')!.description).toContain('systemctl start pkh-postgres-backup@full.service');
  });

  test('CertificateExpiresWithin30Days where the stack generates certificates (datastore TLS, kubeadm CA); omitted elsewhere', () => {
    const withRule = sites.filter((site) => alertNames(site).includes('CertificateExpiresWithin30Days')).map((site) => site.name);
    expect(withRule).toEqual(['homelab', 'kubeadm-stacked', 'kubeadm-multi', 'kubeadm-stacked-backup', 'homelab-backup']);
    for (const site of sites) {
      const omitted = omittedAlerts(site).find((o) => o.alert === 'CertificateExpiresWithin30Days');
      expect(omitted === undefined).toBe(withRule.includes(site.name));
    }
    const rule = siteAlertRuleGroups(sites[0]).flatMap((group) => group.rules).find((r) => r.alert === 'CertificateExpiresWithin30Days')!;
    expect(rule.expr).toBe('pkh_certificate_expiry_timestamp_seconds{job="node"} - time() < 2592000');
    expect(rule.description).toMatch(/terraform plan and terraform apply/);
  });

  test('severity and site label on every rule; group names carry the site', () => {
    for (const site of sites) {
      for (const group of prometheusRuleGroups(site)) {
        expect(group.name.startsWith(`${site.name}-`)).toBe(true);
        for (const rule of group.rules) {
          expect(Object.values(AlertSeverity)).toContain(rule.labels.severity);
          expect(rule.labels.site).toBe(site.name);
        }
      }
    }
  });
});

describeWithTools(['promtool'], 'alert rules checked by promtool', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: promtool check rules', (_name, site) => {
    const result = promtool(['check', 'rules', 'rules.yml'], { 'rules.yml': renderAlertRules(site) });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringMatching(/SUCCESS: \d+ rules found/) });
    expect(result.output).toContain(`SUCCESS: ${alertNames(site).length} rules found`);
  });

  test('promtool check rules fails on a broken expression (the check can fail)', () => {
    const broken = renderAlertRules(sites[0]).replace('vector(1)', 'vector(1');
    expect(promtool(['check', 'rules', 'rules.yml'], { 'rules.yml': broken }).status).not.toBe(0);
  });

  const cases = sites.flatMap((site) => siteAlertRuleGroups(site).flatMap((group) => group.rules.map((rule) => [`${site.name} ${rule.alert}`, site, rule] as const)));
  test.each(cases)('%s: fires on its failure within its for, silent when healthy and during a rolling update', (_name, site, rule) => {
    const scenarios = scenariosFor(site, rule);
    const all = [scenarios.failing, ...(scenarios.healthy ? [scenarios.healthy] : []), ...(scenarios.rolling ? [scenarios.rolling] : [])];
    if (!scenarios.healthy || !scenarios.rolling) {
      expect(scenarios.without ?? (rule.alert.endsWith('QuorumLost') ? 'an etcd of fewer than 3 members loses quorum in any restart' : undefined)).toBeDefined();
    }
    const result = promtool(['test', 'rules', 'tests.yml'], { 'rules.yml': renderAlertRules(site), 'tests.yml': promtoolTestFile(site, rule, all, 'rules.yml') });
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('a scenario test can fail: the failure series expected to stay silent makes promtool fail', () => {
    const site = sites[0];
    const rule = siteAlertRuleGroups(site).flatMap((group) => group.rules).find((r) => r.alert === 'HostMetricsDown')!;
    const failing = scenariosFor(site, rule).failing;
    const wrong = { ...failing, checks: failing.checks.map((check) => ({ ...check, alerts: [] })) };
    const result = promtool(['test', 'rules', 'tests.yml'], { 'rules.yml': renderAlertRules(site), 'tests.yml': promtoolTestFile(site, rule, [wrong], 'rules.yml') });
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('HostMetricsDown');
  });
});

test('the rule file parses back to the groups it was rendered from', () => {
  expect(parse(renderAlertRules(sites[0]))).toEqual({ groups: prometheusRuleGroups(sites[0]) });
});

describe('the site page\'s alert section', () => {
  test.each(sites.map((site) => [site.name, site] as const))('%s: one table row per generated alert, with its threshold and manual check', (_name, site) => {
    const lines = renderAlertSection(site);
    const rows = lines.filter((line) => /^\| [A-Z]\w+ \|/.test(line));
    const rules = siteAlertRuleGroups(site).flatMap((group) => group.rules);
    expect(rows.map((row) => row.split(' | ')[0].slice(2))).toEqual(rules.map((rule) => rule.alert));
    for (const [i, rule] of rules.entries()) {
      // Five cells: pipes inside commands are escaped.
      expect(rows[i].split(/(?<!\\)\|/).length - 2).toBe(5);
      expect(rows[i]).toContain(rule.threshold.replace(/\|/g, '\\|'));
    }
    expect(lines.some((line) => line.startsWith('- BackupTooOld: '))).toBe(site.backup === undefined);
    expect(lines.includes('Not generated for this site:')).toBe(omittedAlerts(site).length > 0);
  });

  test('monitoring switched off: the section says so and lists no alert', () => {
    const lab = sites.find((site) => site.name === 'lab')!;
    const off = renderAlertSection({ ...lab, monitoring: { enabled: false } });
    expect(off.join('\n')).toContain('Monitoring is off for this site');
    expect(off.some((line) => line.startsWith('| Watchdog'))).toBe(false);
  });
});
