import { spawnSync } from 'child_process';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { parse } from 'yaml';
import { HostRole, SitePlan, SiteSpec, defineSite, hostsWithRole } from '../../constructs';
import { K3S_CONFIG_PATH, K3S_ENV_PATH } from '../../constructs/renderers';
import {
  BACKUP_CA_PATH, BACKUP_RCLONE_CONFIG_PATH, ETCD_BACKUP_ENV_PATH, K3S_RESTORE_ENV_PATH, RESTORE_ETCD_PATH, k3sEtcdS3Config, renderBackupSection,
} from '../../constructs/renderers/etcd-backup';
import { K3S_RESTORE_SCRIPT, KUBEADM_BACKUP_SCRIPT, KUBEADM_RESTORE_SCRIPT } from '../../constructs/roles/backup';
import { PGBACKREST_CONFIG_PATH, POSTGRES_BACKUP_SCRIPT_PATH, RESTORE_POSTGRES_PATH } from '../../constructs/renderers/postgres/pgbackrest';
import { POSTGRES_BACKUP_SCRIPT, RESTORE_POSTGRES_SCRIPT } from '../../constructs/roles/postgres-backup';
import homelab from '../../sites/homelab';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { vmSite } from '../fixtures/sites';
import { synthSite } from '../support/synth';
import { deliveredHosts } from '../support/user-data';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { blockTempDir } from '../support/block-temp-dir';

interface FlagEntry { flag: string; type: string; env?: string[] }
const flags = JSON.parse(readFileSync(process.env.K3S_FLAGS ?? resolve(__dirname, '../../../shared/reference/k3s/cli-flags.json'), 'utf8')) as { server: FlagEntry[] };
const serverFlags = new Map(flags.server.map((f) => [f.flag.replace(/^--/, ''), f]));

const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGVGb3JUZXN0c09ubHkwCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n';
const k3sSite = defineSite({ ...vmSite, name: 'backup-k3s', backup: { target: { endpoint: 'http://minio.backup.test:9000', bucket: 'site-backups', pathStyle: true }, etcd: { retention: 5 } } } as SiteSpec);
const k3sTlsSite = defineSite({ ...vmSite, name: 'backup-k3s-ca', backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups', caBundle: CA, region: 'eu-1' } } } as SiteSpec);
const kubeadmSite = defineSite({ ...kubeadmStacked, backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups', caBundle: CA }, etcd: { calendar: 'daily' } } } as SiteSpec);

/** A value in the form of a K3s flag type from the reference. */
function hasFlagType(type: string, value: unknown): boolean {
  return type === 'bool' ? typeof value === 'boolean' : type === 'int' ? Number.isInteger(value) : typeof value === 'string';
}

describe('K3s S3 snapshots', () => {
  test.each([k3sSite, k3sTlsSite].map((site) => [site.name, site] as const))('%s: every etcd-s3 key is a K3s v1.36 server flag of the right type', (_, site) => {
    const config = k3sEtcdS3Config(site);
    expect(Object.keys(config).length).toBeGreaterThanOrEqual(7);
    const problems = Object.entries(config).filter(([key, value]) => !serverFlags.has(key) || !hasFlagType(serverFlags.get(key)!.type, value));
    expect(problems).toEqual([]);
  });

  test('the settings follow the section: endpoint without scheme, plain text, path style, folder and retention', () => {
    expect(k3sEtcdS3Config(k3sSite)).toEqual({
      'etcd-s3': true, 'etcd-s3-endpoint': 'minio.backup.test:9000', 'etcd-s3-bucket': 'site-backups', 'etcd-s3-region': 'us-east-1',
      'etcd-s3-folder': 'backup-k3s/etcd', 'etcd-s3-retention': 5, 'etcd-s3-bucket-lookup-type': 'path', 'etcd-s3-insecure': true,
    });
    expect(k3sEtcdS3Config(k3sTlsSite)).toMatchObject({ 'etcd-s3-endpoint': 's3.backup.test', 'etcd-s3-endpoint-ca': BACKUP_CA_PATH, 'etcd-s3-region': 'eu-1' });
    expect(k3sEtcdS3Config(k3sTlsSite)).not.toHaveProperty('etcd-s3-insecure');
    expect(k3sEtcdS3Config(defineSite(vmSite))).toEqual({});
  });

  test('the credentials\' variables are the env entries of --etcd-s3-access-key and --etcd-s3-secret-key', () => {
    expect(serverFlags.get('etcd-s3-access-key')!.env).toEqual(['AWS_ACCESS_KEY_ID']);
    expect(serverFlags.get('etcd-s3-secret-key')!.env).toEqual(['AWS_SECRET_ACCESS_KEY']);
  });
});

/** Every file content of a synthesized stack's hosts, with the variables as written in the JSON (not interpolated). */
function rawJsonText(site: SitePlan): { json: Record<string, any>; text: string } {
  const { json, text } = synthSite(site);
  return { json, text };
}

describe.each([k3sSite, k3sTlsSite, kubeadmSite].map((site) => [site.name, site] as const))('site %s, synthesized', (_, site) => {
  const { json, text } = rawJsonText(site);
  const delivered = deliveredHosts(site, json);
  const kubeadm = site.controlPlane.distribution === 'kubeadm';
  const controlPlanes = hostsWithRole(site, kubeadm ? HostRole.CONTROL_PLANE : HostRole.K3S_SERVER).map((h) => h.name);

  test('the credentials are sensitive variables, referenced and never written as values', () => {
    for (const name of ['backup_s3_access_key', 'backup_s3_secret_key']) {
      expect(json.variable[name]).toMatchObject({ type: 'string', sensitive: true });
      expect(text).toContain(`\${var.${name}}`);
    }
    // The test values interpolateForValidation puts in for every secret never appear in the JSON itself.
    expect(text).not.toContain('PLACEHOLDER-SECRET');
    expect(text).not.toMatch(/AWS_SECRET_ACCESS_KEY=(?!\$\{var\.backup_s3_secret_key\})/);
    expect(text).not.toMatch(/secret_access_key = (?!\$\{var\.backup_s3_secret_key\})/);
  });

  test('the credentials reach only 0600 files, on the control planes only', () => {
    const holders = delivered.flatMap((h) => [...h.files.entries()].filter(([, f]) => f.content.includes('PLACEHOLDER-SECRET') && /AWS_SECRET_ACCESS_KEY|secret_access_key/.test(f.content))
      .map(([path, f]) => ({ host: h.host.name, path, mode: f.mode })));
    expect(holders.map((h) => h.host).sort()).toEqual([...controlPlanes].sort());
    expect(holders.every((h) => h.mode.replace(/^0?/, '0') === '0600')).toBe(true);
    expect(new Set(holders.map((h) => h.path))).toEqual(new Set([kubeadm ? BACKUP_RCLONE_CONFIG_PATH : K3S_ENV_PATH]));
  });

  test('every control plane gets restore-etcd; K3s servers the S3 settings, kubeadm ones the snapshot job', () => {
    for (const host of delivered.filter((h) => controlPlanes.includes(h.host.name))) {
      expect(host.files.get(RESTORE_ETCD_PATH)).toEqual({ content: kubeadm ? KUBEADM_RESTORE_SCRIPT : K3S_RESTORE_SCRIPT, mode: '0755' });
      if (kubeadm) {
        expect(host.files.get('/usr/local/sbin/backup-etcd')!.content).toBe(KUBEADM_BACKUP_SCRIPT);
        expect(host.files.get('/etc/systemd/system/pkh-etcd-backup.timer')!.content).toContain('OnCalendar=daily');
        expect(host.files.get(ETCD_BACKUP_ENV_PATH)!.content).toContain(`RESTORE_MEMBER_NAME='${host.host.name}'`);
        expect(host.text).toMatch(/etcd-client/);
      } else {
        const config = parse(host.files.get(K3S_CONFIG_PATH)!.content) as Record<string, unknown>;
        expect(config).toMatchObject(k3sEtcdS3Config(site) as Record<string, unknown>);
        expect(host.files.get(K3S_RESTORE_ENV_PATH)!.content).toContain(`RESTORE_OTHER_SERVERS='${controlPlanes.filter((n) => n !== host.host.name).join(' ')}'`);
      }
    }
    expect(delivered.filter((h) => !controlPlanes.includes(h.host.name) && h.files.has(RESTORE_ETCD_PATH))).toEqual([]);
  });

  test('the K3s token is a sensitive output on K3s sites (the restore needs the original one)', () => {
    if (kubeadm) {
      expect(json.output?.k3s_token).toBeUndefined();
    } else {
      expect(json.output.k3s_token).toMatchObject({ sensitive: true });
    }
  });

  test('the site page says where the backups go and how to restore', () => {
    const section = renderBackupSection(site).join('\n');
    expect(section).toContain(`folder \`${site.backup!.etcd.folder}/\``);
    expect(section).toContain('restore-etcd <snapshot>');
  });
});

describeWithTools(['shellcheck'], 'the backup scripts', () => {
  test.each([['restore-etcd-k3s', K3S_RESTORE_SCRIPT], ['backup-etcd-kubeadm', KUBEADM_BACKUP_SCRIPT], ['restore-etcd-kubeadm', KUBEADM_RESTORE_SCRIPT]])('%s is shellcheck-clean', (_, script) => {
    expect(shellcheck(script)).toEqual({ ok: true, output: '' });
  });
});

describeWithTools(['terraform'], 'the credential variables, run by terraform', () => {
  const { json } = synthSite(k3sSite);
  const dir = blockTempDir('pkh-backup-vars-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Only the two variables as synthesized (no provider to download), read by an output.
  const variables = { backup_s3_access_key: json.variable.backup_s3_access_key, backup_s3_secret_key: json.variable.backup_s3_secret_key };
  const run = (args: string[], secret = '') => spawnSync('terraform', args, {
    cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TF_IN_AUTOMATION: '1', TF_VAR_backup_s3_access_key: 'AKIAIOSFODNN7EXAMPLE', TF_VAR_backup_s3_secret_key: secret },
  });
  const plan = (secret: string) => run(['plan', '-input=false', '-no-color', '-lock=false'], secret);

  test('a secret key, well-formed or not, never appears in terraform\'s output (a validation block would print a refused one)', () => {
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({
      variable: variables,
      output: { both: { value: '${length(var.backup_s3_access_key) + length(var.backup_s3_secret_key)}', sensitive: true } },
    }));
    expect(run(['init', '-input=false', '-no-color', '-backend=false']).status).toBe(0);
    for (const secret of ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', "wJalr'Xut$nFEMI"]) {
      const result = plan(secret);
      expect(result.status).toBe(0);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
    expect(variables.backup_s3_secret_key.validation).toBeUndefined();
  }, 120_000);
});

describe('a PostgreSQL site with a target, synthesized', () => {
  const site = defineSite({ ...homelab, backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' } } } as SiteSpec);
  const { json, text } = synthSite(site);
  const delivered = deliveredHosts(site, json);
  const nodes = site.postgres!.nodes.map((node) => node.name);

  test('the credentials are sensitive variables, reaching pgbackrest.conf (0640 root:postgres) on the datastore nodes only', () => {
    for (const name of ['backup_s3_access_key', 'backup_s3_secret_key']) {
      expect(json.variable[name]).toMatchObject({ type: 'string', sensitive: true });
    }
    expect(text).not.toContain('PLACEHOLDER-SECRET');
    expect(text).not.toMatch(/repo1-s3-key-secret=(?!\$\{var\.backup_s3_secret_key\})/);
    const holders = delivered.flatMap((h) => [...h.files.entries()].filter(([, f]) => f.content.includes('PLACEHOLDER-SECRET') && /repo1-s3-key-secret/.test(f.content)).map(([path]) => `${h.host.name}:${path}`));
    expect(holders.sort()).toEqual(nodes.map((name) => `${name}:${PGBACKREST_CONFIG_PATH}`).sort());
    expect(json.output?.k3s_token).toBeUndefined();
  });

  test('both datastore nodes get the backup job, its timers and restore-postgres; Patroni archives to the repository', () => {
    for (const host of delivered.filter((h) => nodes.includes(h.host.name))) {
      expect(host.files.get(RESTORE_POSTGRES_PATH)!.content).toBe(RESTORE_POSTGRES_SCRIPT);
      expect(host.files.get(POSTGRES_BACKUP_SCRIPT_PATH)!.content).toBe(POSTGRES_BACKUP_SCRIPT);
      expect(host.files.get('/etc/systemd/system/pkh-postgres-backup-full.timer')!.content).toContain('OnCalendar=Sun *-*-* 01:00:00');
      expect(host.files.get('/etc/patroni/config.yml')!.content).toContain('archive_command: /usr/bin/pgbackrest --stanza=k3s-datastore archive-push %p');
    }
    expect(delivered.filter((h) => !nodes.includes(h.host.name) && h.files.has(RESTORE_POSTGRES_PATH))).toEqual([]);
    expect(renderBackupSection(site).join('\n')).toContain('folder `homelab/postgres/`');
  });
});
