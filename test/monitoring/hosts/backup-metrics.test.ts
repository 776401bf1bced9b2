import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { CloudConfig, HostRole, SiteSpec, defineSite, hostsWithRole } from '../../../constructs';
import { SitePlan } from '../../../constructs/site/plan';
import { DatastoreKind } from '../../../constructs/site/spec';
import { K3S_BACKUP_METRICS_PATH, K3S_BACKUP_METRICS_SCRIPT, K3S_BACKUP_METRICS_UNIT, applyHostExporters } from '../../../constructs/roles';
import { loadSites } from '../../../sites';
import labSpec from '../../../sites/lab';
import homelabSpec from '../../../sites/homelab';
import { describeWithTools } from '../../support/tools';
import { shellcheck } from '../../support/validators';
import { sampleValue } from './support';

/**
 * K3s servers publish their newest S3 etcd snapshot as the backup's last success: the script run for real (jq, date,
 * the textfile rename) against the JSON `k3s etcd-snapshot list -o json` prints, served by a stand-in `k3s` command.
 */
const withBackup = (spec: SiteSpec): SitePlan => defineSite({ ...spec, backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' } } } as SiteSpec);

/** One ETCDSnapshotFile as the K3s API serves it (k3s pkg/apis/k3s.cattle.io/v1/types.go). */
function snapshotFile(node: string, created: string, where: 's3' | 'local', ready = true): unknown {
  const name = `etcd-snapshot-${node}-${Date.parse(created) / 1000}`;
  return {
    apiVersion: 'k3s.cattle.io/v1',
    kind: 'ETCDSnapshotFile',
    metadata: { name: `${where}-${name}-abc123` },
    spec: {
      snapshotName: name,
      nodeName: node,
      location: where === 's3' ? `s3://site-backups/lab/etcd/${name}` : `file:///var/lib/rancher/k3s/server/db/snapshots/${name}`,
      ...(where === 's3' ? { s3: { endpoint: 's3.backup.test', bucket: 'site-backups', prefix: 'lab/etcd' } } : {}),
    },
    status: { creationTime: created, readyToUse: ready, size: '3305504' },
  };
}

describeWithTools(['jq'], 'k3s-backup-metrics.sh publishes the newest S3 snapshot of this server (run for real)', () => {
  let root: string;
  let textfiles: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-k3s-backup-'));
    textfiles = join(root, 'textfile');
    mkdirSync(textfiles);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs the script with a `k3s` that prints `list` (indented, as K3s's JSON printer does) for `etcd-snapshot list -o json` only. */
  const run = (items: unknown[], node = 'server-1', listed: unknown = { apiVersion: 'v1', kind: 'ETCDSnapshotFileList', metadata: {}, items }) => {
    const k3s = join(root, 'k3s');
    writeFileSync(join(root, 'list.json'), JSON.stringify(listed, null, 4));
    writeFileSync(k3s, `#!/bin/sh\n[ "$*" = "etcd-snapshot list -o json" ] || { echo "unexpected: $*" >&2; exit 2; }\ncat '${join(root, 'list.json')}'\n`, { mode: 0o755 });
    const script = join(root, 'k3s-backup-metrics.sh');
    writeFileSync(script, K3S_BACKUP_METRICS_SCRIPT, { mode: 0o755 });
    return spawnSync('sh', [script, node], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PKH_TEXTFILE_DIR: textfiles, K3S_BIN: k3s } });
  };
  const published = () => readFileSync(join(textfiles, 'pkh-backup-etcd.prom'), 'utf8');

  test('the newest snapshot of this node that is on S3 and ready; local, failed and other nodes\' snapshots do not count', () => {
    const result = run([
      snapshotFile('server-1', '2026-12-07T00:00:00Z', 's3'),
      snapshotFile('server-1', '2026-12-07T06:00:00Z', 's3'),
      snapshotFile('server-1', '2026-12-07T12:00:00Z', 'local'),
      snapshotFile('server-1', '2026-12-07T12:00:00Z', 's3', false),
      snapshotFile('server-2', '2026-12-07T12:00:00Z', 's3'),
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readdirSync(textfiles)).toEqual(['pkh-backup-etcd.prom']);
    expect(sampleValue(published(), 'pkh_backup_last_success_timestamp_seconds', { kind: 'etcd' })).toBe(Date.parse('2026-12-07T06:00:00Z') / 1000);
  });

  test('no snapshot of this node on S3 yet: no sample (an earlier file is removed), not a made-up time', () => {
    writeFileSync(join(textfiles, 'pkh-backup-etcd.prom'), 'pkh_backup_last_success_timestamp_seconds{kind="etcd"} 1\n');
    const result = run([snapshotFile('server-1', '2026-12-07T12:00:00Z', 'local'), snapshotFile('server-2', '2026-12-07T12:00:00Z', 's3')]);
    expect(result.status).toBe(0);
    expect(readdirSync(textfiles)).toEqual([]);
  });

  test('K3s before 1.29 printed a bare array: refused by name, the run fails and the last published time stays', () => {
    writeFileSync(join(textfiles, 'pkh-backup-etcd.prom'), 'pkh_backup_last_success_timestamp_seconds{kind="etcd"} 1765000000\n');
    const result = run([], 'server-1', [{ name: 'etcd-snapshot-server-1-1765000000', nodeName: 's3', createdAt: '2025-12-06T05:46:40Z' }]);
    expect(result.stderr).toContain('k3s etcd-snapshot list -o json: not an ETCDSnapshotFileList');
    expect(result.status).not.toBe(0);
    expect(sampleValue(published(), 'pkh_backup_last_success_timestamp_seconds', { kind: 'etcd' })).toBe(1_765_000_000);
  });

  test('k3s fails (server down): the run fails and the last published time stays, to age into the alert', () => {
    // Installs the script (and a k3s that lists nothing), then replaces k3s by one that exits non-zero.
    expect(run([], 'server-1').status).toBe(0);
    writeFileSync(join(root, 'k3s'), '#!/bin/sh\necho "failed to get snapshot list" >&2\nexit 1\n', { mode: 0o755 });
    writeFileSync(join(textfiles, 'pkh-backup-etcd.prom'), 'pkh_backup_last_success_timestamp_seconds{kind="etcd"} 1765000000\n');
    const script = join(root, 'k3s-backup-metrics.sh');
    const failed = spawnSync('sh', [script, 'server-1'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PKH_TEXTFILE_DIR: textfiles, K3S_BIN: join(root, 'k3s') } });
    expect(failed.status).not.toBe(0);
    expect(sampleValue(published(), 'pkh_backup_last_success_timestamp_seconds', { kind: 'etcd' })).toBe(1_765_000_000);
  });
});

describeWithTools(['shellcheck'], 'k3s-backup-metrics.sh passes shellcheck', () => {
  test('no finding at any severity', () => {
    const result = shellcheck(K3S_BACKUP_METRICS_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describe('which hosts run it', () => {
  const timerOn = (site: SitePlan) => site.hosts.filter((host) => {
    const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
    applyHostExporters(config, site, host);
    return config.services.some((service) => service.unit === `${K3S_BACKUP_METRICS_UNIT}.timer`);
  }).map((host) => host.name);

  test('every K3s server of an embedded-etcd site with a backup target, with its node name and jq', () => {
    const site = withBackup(labSpec);
    expect(site.controlPlane.datastore).toBe(DatastoreKind.EMBEDDED_ETCD);
    expect(timerOn(site)).toEqual(hostsWithRole(site, HostRole.K3S_SERVER).map((host) => host.name));
    const host = hostsWithRole(site, HostRole.K3S_SERVER)[0];
    const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
    applyHostExporters(config, site, host);
    expect(config.files.find((file) => file.path === `/etc/systemd/system/${K3S_BACKUP_METRICS_UNIT}.service`)!.content).toContain(`ExecStart=${K3S_BACKUP_METRICS_PATH} ${host.name}\n`);
    expect(config.packages).toContain('jq');
  });

  test('no host without a backup target (the seed sites) or on the PostgreSQL datastore', () => {
    for (const site of loadSites()) {
      expect([site.name, timerOn(site)]).toEqual([site.name, []]);
    }
    expect(timerOn(withBackup(homelabSpec))).toEqual([]);
  });
});

describeWithTools(['systemd-analyze'], 'systemd-analyze verify accepts the timer and its service', () => {
  test('the rendered units, the script moved into a test directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkh-units-'));
    try {
      const site = withBackup(labSpec);
      const host = hostsWithRole(site, HostRole.K3S_SERVER)[0];
      const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
      applyHostExporters(config, site, host);
      const script = join(dir, 'k3s-backup-metrics.sh');
      writeFileSync(script, K3S_BACKUP_METRICS_SCRIPT, { mode: 0o755 });
      const units = ['service', 'timer'].map((suffix) => {
        const path = `/etc/systemd/system/${K3S_BACKUP_METRICS_UNIT}.${suffix}`;
        const unit = join(dir, basename(path));
        writeFileSync(unit, config.files.find((file) => file.path === path)!.content.split(K3S_BACKUP_METRICS_PATH).join(script));
        return unit;
      });
      const result = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', timeout: 30_000 });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
