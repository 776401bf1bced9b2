import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { CloudConfig, DatastoreKind, HostRole, hostsWithRole } from '../../../constructs';
import {
  ETCD_SNAPSHOT_METRICS_PATH, ETCD_SNAPSHOT_METRICS_SCRIPT, ETCD_SNAPSHOT_METRICS_SERVICE_PATH, ETCD_SNAPSHOT_METRICS_TIMER_PATH, applyHostExporters,
} from '../../../constructs/roles';
import { loadSites } from '../../../sites';
import { describeWithTools } from '../../support/tools';
import { shellcheck } from '../../support/validators';
import { sampleValue } from './support';

/** The backup job's last success on K3s servers with embedded etcd: the script run for real on a temporary directory. */
const SITES = loadSites();

describe('etcd-snapshot-metrics.sh publishes the newest scheduled snapshot (run for real)', () => {
  let root: string;
  let snapshots: string;
  let textfiles: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-snapshots-'));
    snapshots = join(root, 'snapshots');
    textfiles = join(root, 'textfile');
    mkdirSync(textfiles);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const run = () => {
    const script = join(root, 'etcd-snapshot-metrics.sh');
    writeFileSync(script, ETCD_SNAPSHOT_METRICS_SCRIPT, { mode: 0o755 });
    const result = spawnSync('sh', [script, snapshots], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PKH_TEXTFILE_DIR: textfiles } });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    // Only the finished file: the temporary one was renamed.
    expect(readdirSync(textfiles)).toEqual(['k3s-etcd-snapshots.prom']);
    return readFileSync(join(textfiles, 'k3s-etcd-snapshots.prom'), 'utf8');
  };

  test('before the first snapshot: 0 files and no timestamp (the snapshot directory does not even exist yet)', () => {
    const metrics = run();
    expect(sampleValue(metrics, 'k3s_etcd_snapshot_files', {})).toBe(0);
    expect(sampleValue(metrics, 'k3s_etcd_snapshot_last_timestamp_seconds', {})).toBeUndefined();
  });

  test('the newest scheduled snapshot\'s time, compressed ones included; on-demand snapshots do not count', () => {
    mkdirSync(snapshots);
    const snapshot = (name: string, seconds: number) => {
      writeFileSync(join(snapshots, name), 'x');
      utimesSync(join(snapshots, name), seconds, seconds);
    };
    snapshot('etcd-snapshot-server-1-1764000000', 1_764_000_000);
    snapshot('etcd-snapshot-server-1-1764021600.zip', 1_764_021_600);
    snapshot('etcd-snapshot-server-1-1763978400', 1_763_978_400);
    snapshot('on-demand-server-1-1764030000', 1_764_030_000);
    const metrics = run();
    expect(sampleValue(metrics, 'k3s_etcd_snapshot_files', {})).toBe(3);
    expect(sampleValue(metrics, 'k3s_etcd_snapshot_last_timestamp_seconds', {})).toBe(1_764_021_600);
  });
});

describeWithTools(['shellcheck'], 'etcd-snapshot-metrics.sh passes shellcheck', () => {
  test('no finding at any severity', () => {
    const result = shellcheck(ETCD_SNAPSHOT_METRICS_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describe('which hosts run it', () => {
  test.each(SITES.map((site) => [site.name, site] as const))('%s: every K3s server with embedded etcd, and no other host', (_, site) => {
    const expected = site.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD ? hostsWithRole(site, HostRole.K3S_SERVER).map((host) => host.name) : [];
    const running = site.hosts.filter((host) => {
      const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
      applyHostExporters(config, site, host);
      return config.services.some((service) => service.unit === 'pkh-etcd-snapshot-metrics.timer');
    }).map((host) => host.name);
    expect(running).toEqual(expected);
  });
});

describeWithTools(['systemd-analyze'], 'systemd-analyze verify accepts the timer and its service', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-units-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the rendered units, the script moved into the test directory', () => {
    const site = SITES.find((candidate) => candidate.name === 'lab')!;
    const host = hostsWithRole(site, HostRole.K3S_SERVER)[0];
    const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
    applyHostExporters(config, site, host);
    const script = join(dir, 'etcd-snapshot-metrics.sh');
    writeFileSync(script, ETCD_SNAPSHOT_METRICS_SCRIPT, { mode: 0o755 });
    const units = [ETCD_SNAPSHOT_METRICS_SERVICE_PATH, ETCD_SNAPSHOT_METRICS_TIMER_PATH].map((path) => {
      const unit = join(dir, basename(path));
      writeFileSync(unit, config.files.find((file) => file.path === path)!.content.split(ETCD_SNAPSHOT_METRICS_PATH).join(script));
      return unit;
    });
    const result = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', timeout: 30_000 });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
