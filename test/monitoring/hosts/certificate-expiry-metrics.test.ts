import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, join } from 'path';
import { CloudConfig } from '../../../constructs';
import { generatedCertificatePaths } from '../../../constructs/monitoring/certificate-expiry';
import {
  CERTIFICATE_EXPIRY_METRICS_PATH, CERTIFICATE_EXPIRY_METRICS_SCRIPT, CERTIFICATE_EXPIRY_METRICS_UNIT, applyHostExporters,
} from '../../../constructs/roles';
import { loadSites } from '../../../sites';
import { describeWithTools } from '../../support/tools';
import { shellcheck } from '../../support/validators';
import { sampleValue } from './support';

const SITES = loadSites();
const DAY = 86_400;

describeWithTools(['openssl'], 'certificate-expiry-metrics.sh publishes notAfter of real certificates (run for real)', () => {
  let root: string;
  let textfiles: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pkh-certificates-'));
    textfiles = join(root, 'textfile');
    mkdirSync(textfiles);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A self-signed P-256 certificate valid for `days` from now, made by openssl. */
  const certificate = (name: string, days: number): string => {
    const path = join(root, `${name}.crt`);
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(root, `${name}.key`),
      '-out', path, '-days', String(days), '-subj', `/CN=${name}`], { encoding: 'utf8', timeout: 30_000 });
    expect(made.status).toBe(0);
    return path;
  };

  test('one expiring in 10 days, one in 400; a missing file skipped; an unreadable one reported and the run failed', () => {
    const soon = certificate('soon', 10);
    const later = certificate('later', 400);
    const broken = join(root, 'broken.crt');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    const script = join(root, 'certificate-expiry-metrics.sh');
    writeFileSync(script, CERTIFICATE_EXPIRY_METRICS_SCRIPT, { mode: 0o755 });
    const now = Date.now() / 1000;
    const result = spawnSync('sh', [script, soon, join(root, 'missing.crt'), broken, later], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, PKH_TEXTFILE_DIR: textfiles } });
    expect(result.stderr).toBe(`certificate-expiry-metrics: ${broken} is not a readable PEM certificate\n`);
    expect(result.status).toBe(1);
    expect(readdirSync(textfiles)).toEqual(['pkh-certificates.prom']);
    const metrics = readFileSync(join(textfiles, 'pkh-certificates.prom'), 'utf8');
    const soonEnd = sampleValue(metrics, 'pkh_certificate_expiry_timestamp_seconds', { path: soon })!;
    const laterEnd = sampleValue(metrics, 'pkh_certificate_expiry_timestamp_seconds', { path: later })!;
    // openssl sets notAfter to now + days to the second; a minute covers the run.
    expect(Math.abs(soonEnd - (now + 10 * DAY))).toBeLessThan(60);
    expect(Math.abs(laterEnd - (now + 400 * DAY))).toBeLessThan(60);
    expect(metrics.split('\n').filter((line) => line.startsWith('pkh_'))).toHaveLength(2);
    // The alert's condition on these values: only the first is within 30 days.
    expect([soonEnd - now < 30 * DAY, laterEnd - now < 30 * DAY]).toEqual([true, false]);
  });
});

describeWithTools(['shellcheck'], 'certificate-expiry-metrics.sh passes shellcheck', () => {
  test('no finding at any severity', () => {
    const result = shellcheck(CERTIFICATE_EXPIRY_METRICS_SCRIPT);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});

describe('which hosts run it, on which certificates', () => {
  const rendered = (site: (typeof SITES)[number], host: (typeof SITES)[number]['hosts'][number]) => {
    const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
    applyHostExporters(config, site, host);
    return config;
  };

  test('homelab (datastore TLS): datastore nodes (also load balancers) and the witness, and the K3s servers with the datastore CA', () => {
    const homelab = SITES.find((site) => site.name === 'homelab')!;
    const paths = Object.fromEntries(homelab.hosts.map((host) => [host.name, generatedCertificatePaths(homelab, host)]));
    expect(paths).toEqual({
      'pg-node-1': ['/etc/proxmox-k3s-ha/postgres-tls/ca.crt', '/etc/proxmox-k3s-ha/postgres-tls/server.crt', '/etc/proxmox-k3s-ha/etcd-tls/ca.crt', '/etc/proxmox-k3s-ha/etcd-tls/member.crt', '/etc/haproxy/datastore-ca.crt'],
      'pg-node-2': ['/etc/proxmox-k3s-ha/postgres-tls/ca.crt', '/etc/proxmox-k3s-ha/postgres-tls/server.crt', '/etc/proxmox-k3s-ha/etcd-tls/ca.crt', '/etc/proxmox-k3s-ha/etcd-tls/member.crt', '/etc/haproxy/datastore-ca.crt'],
      cp1: ['/etc/proxmox-k3s-ha/etcd-tls/ca.crt', '/etc/proxmox-k3s-ha/etcd-tls/member.crt', '/etc/rancher/k3s/datastore-ca.crt'],
      cp2: ['/etc/rancher/k3s/datastore-ca.crt'],
      cp3: ['/etc/rancher/k3s/datastore-ca.crt'],
    });
    const service = rendered(homelab, homelab.hosts[0]).files.find((file) => file.path === `/etc/systemd/system/${CERTIFICATE_EXPIRY_METRICS_UNIT}.service`)!;
    expect(service.content).toContain(`ExecStart=${[CERTIFICATE_EXPIRY_METRICS_PATH, ...paths['pg-node-1']].join(' ')}\n`);
  });

  test.each(SITES.map((site) => [site.name, site] as const))('%s: the timer exactly on the hosts holding a generated certificate', (_name, site) => {
    for (const host of site.hosts) {
      const timer = rendered(site, host).services.some((service) => service.unit === `${CERTIFICATE_EXPIRY_METRICS_UNIT}.timer`);
      expect([host.name, timer]).toEqual([host.name, generatedCertificatePaths(site, host).length > 0]);
    }
    const kubeadm = site.controlPlane.distribution === 'kubeadm';
    expect(site.hosts.some((host) => generatedCertificatePaths(site, host).includes('/etc/kubernetes/pki/ca.crt'))).toBe(kubeadm);
  });
});

describeWithTools(['systemd-analyze'], 'systemd-analyze verify accepts the daily timer and its service', () => {
  test('the rendered units, the script moved into a test directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pkh-units-'));
    try {
      const site = SITES.find((candidate) => candidate.name === 'homelab')!;
      const host = site.hosts[0];
      const config = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
      applyHostExporters(config, site, host);
      const script = join(dir, 'certificate-expiry-metrics.sh');
      writeFileSync(script, CERTIFICATE_EXPIRY_METRICS_SCRIPT, { mode: 0o755 });
      const units = ['service', 'timer'].map((suffix) => {
        const path = `/etc/systemd/system/${CERTIFICATE_EXPIRY_METRICS_UNIT}.${suffix}`;
        const unit = join(dir, basename(path));
        writeFileSync(unit, config.files.find((file) => file.path === path)!.content.split(CERTIFICATE_EXPIRY_METRICS_PATH).join(script));
        return unit;
      });
      expect(readFileSync(units[1], 'utf8')).toContain('OnCalendar=daily\nPersistent=true\n');
      const result = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8', timeout: 30_000 });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
