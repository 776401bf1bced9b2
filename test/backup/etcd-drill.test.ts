import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SiteSpec, defineSite } from '../../constructs';
import { EtcdMember, KubeadmEtcdBackupSettings, kubeadmEtcdBackupSettings, renderKubeadmEtcdBackupEnv, renderRcloneConfig } from '../../constructs/renderers/etcd-backup';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { S3Standin } from './s3-standin';
import { KUBEADM_BACKUP_SCRIPT, KUBEADM_RESTORE_SCRIPT } from '../../constructs/roles/backup';
import { describeWithTools } from '../support/tools';
import { blockTempDir } from '../support/block-temp-dir';

/**
 * The kubeadm etcd backup and restore, drilled with a real 3-member etcd (Debian's etcd-server) on loopback
 * addresses: keys written, the generated snapshot job run (rclone uploading to a local folder, then with the
 * generated rclone configuration to an S3-protocol stand-in that checks the request signatures), failing uploads
 * (target unreachable, wrong credentials), every member killed and wiped, the generated restore run for each member
 * with the snapshot fetched from S3, the members started again: the keys of the snapshot are back and the cluster
 * has its three members.
 */
const ACCESS_KEY = 'AKIADRILLEXAMPLE0001';
const SECRET_KEY = 'drill/Secret+Key=0123456789abcdefghijklmn';
const CLIENT_PORT = 32379;
const PEER_PORT = 32380;
const KEYS = 50;
const members: (EtcdMember & { ip: string; clientUrl: string })[] = [1, 2, 3].map((i) => ({
  name: `cp${i}`, ip: `127.0.19.${i}`, peerUrl: `http://127.0.19.${i}:${PEER_PORT}`, clientUrl: `http://127.0.19.${i}:${CLIENT_PORT}`,
}));
const endpoints = members.map((m) => m.clientUrl).join(',');

describeWithTools(['etcd', 'etcdctl', 'rclone'], 'kubeadm etcd backup and restore, with a real 3-member etcd', () => {
  const dir = blockTempDir('pkh-etcd-drill-');
  const remote = join(dir, 'bucket', 'site', 'etcd');
  const textfileDir = join(dir, 'textfile');
  const processes = new Map<string, ChildProcess>();
  const dataDir = (name: string) => join(dir, 'data', name);

  const settingsOf = (member: EtcdMember & { clientUrl: string }): KubeadmEtcdBackupSettings => ({
    member, members, endpoint: member.clientUrl, remote, retention: 2,
    backupDir: join(dir, 'local', member.name), dataDir: dataDir(member.name), staticPodDir: join(dir, 'manifests', member.name), textfileDir,
  });
  const envFileOf = (member: (typeof members)[number], settings = settingsOf(member)): string => {
    const file = join(dir, `${member.name}.env`);
    writeFileSync(file, renderKubeadmEtcdBackupEnv(settings));
    return file;
  };
  /** Runs a generated script without blocking the event loop (the S3 stand-in answers from this process). */
  const run = (script: string, envFile: string, args: string[] = []) => new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const path = join(dir, script === KUBEADM_BACKUP_SCRIPT ? 'backup-etcd' : 'restore-etcd');
    writeFileSync(path, script, { mode: 0o755 });
    const child = spawn(path, args, { env: { PATH: process.env.PATH, PKH_ETCD_BACKUP_ENV: envFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (status) => { clearTimeout(timer); done({ status, stdout, stderr }); });
  });
  const etcdctl = (...args: string[]) => spawnSync('etcdctl', ['--endpoints', endpoints, '--dial-timeout=2s', '--command-timeout=10s', ...args], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, ETCDCTL_API: '3' },
  });

  function start(member: (typeof members)[number]): void {
    const child = spawn('etcd', [
      '--name', member.name, '--data-dir', dataDir(member.name),
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', members.map((m) => `${m.name}=${m.peerUrl}`).join(','), '--initial-cluster-state', 'new', '--initial-cluster-token', 'drill',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-4000); });
    child.on('exit', (code) => { if (code) { console.warn(`etcd ${member.name} exited ${code}: ${log.slice(-800)}`); } });
    processes.set(member.name, child);
  }
  async function stopAll(): Promise<void> {
    await Promise.all([...processes.values()].map((child) => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        done();
        return;
      }
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(kill); done(); });
      child.kill('SIGTERM');
    })));
    processes.clear();
  }
  async function waitHealthy(seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (etcdctl('endpoint', 'health').status !== 0) {
      if (Date.now() > deadline) {
        throw new Error(`etcd not healthy on all of ${endpoints} within ${seconds} s: ${etcdctl('endpoint', 'health').stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const snapshotsOnTarget = () => (existsSync(remote) ? readdirSync(remote).sort() : []);
  const metric = () => readFileSync(join(textfileDir, 'pkh-backup-etcd.prom'), 'utf8');

  const s3 = new S3Standin('site-backups', ACCESS_KEY, SECRET_KEY);
  let s3Settings: (member: (typeof members)[number], secretKey?: string) => KubeadmEtcdBackupSettings;

  beforeAll(async () => {
    const endpoint = await s3.start('127.0.19.10');
    // The generated remote and rclone configuration of a kubeadm site whose target is the stand-in.
    const plan = defineSite({ ...kubeadmStacked, backup: { target: { endpoint, bucket: 'site-backups', pathStyle: true }, etcd: { retention: 2 } } } as SiteSpec);
    const generated = kubeadmEtcdBackupSettings(plan, plan.hosts.find((h) => h.roles.includes('control-plane' as never))!.name, textfileDir);
    s3Settings = (member, secretKey = SECRET_KEY) => {
      const config = join(dir, `rclone-${member.name}-${secretKey === SECRET_KEY ? 'good' : 'bad'}.conf`);
      writeFileSync(config, renderRcloneConfig(plan.backup!, { accessKey: ACCESS_KEY, secretKey }), { mode: 0o600 });
      return { ...settingsOf(member), remote: generated.remote, rcloneConfig: config };
    };
    mkdirSync(textfileDir, { recursive: true });
    for (const member of members) {
      mkdirSync(join(dir, 'manifests', member.name), { recursive: true });
      for (const manifest of ['etcd.yaml', 'kube-apiserver.yaml', 'kube-scheduler.yaml']) {
        writeFileSync(join(dir, 'manifests', member.name, manifest), `# ${manifest}\n`);
      }
      start(member);
    }
    await waitHealthy(60);
  }, 90_000);
  afterAll(async () => {
    await stopAll();
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  let snapshot = '';
  test('the snapshot job uploads, keeps the retention, and records its success for node_exporter', async () => {
    for (let i = 0; i < KEYS; i++) {
      expect(etcdctl('put', `/registry/drill/key-${i}`, `value-${i}`).status).toBe(0);
    }
    const env = envFileOf(members[0]);
    const durations: number[] = [];
    for (let run_ = 0; run_ < 3; run_++) {
      const started = Date.now();
      const result = await run(KUBEADM_BACKUP_SCRIPT, env);
      durations.push(Date.now() - started);
      expect([result.status, result.stderr]).toEqual([0, expect.any(String)]);
      // One-second names: the next run gets a new one.
      await new Promise((r) => setTimeout(r, 1100));
    }
    const kept = snapshotsOnTarget();
    expect(kept).toHaveLength(2);
    expect(kept.every((name) => /^etcd-snapshot-cp1-\d{8}T\d{6}Z\.db$/.test(name))).toBe(true);
    expect(readdirSync(join(dir, 'local', 'cp1'))).toEqual([kept[1]]);
    const [, value] = /^pkh_backup_last_success_timestamp_seconds\{kind="etcd"\} (\d+)$/m.exec(metric()) ?? [];
    expect(Math.abs(Number(value) - Date.now() / 1000)).toBeLessThan(30);
    snapshot = kept[1];
    console.log(`etcd drill: snapshot job (${KEYS} keys, snapshot + upload + retention) took ${durations.join(', ')} ms`);
  }, 120_000);

  test('a failing upload fails the job, deletes no snapshot on the target and records no success', async () => {
    const before = snapshotsOnTarget();
    const metricBefore = metric();
    // An S3 target nobody listens on.
    const config = join(dir, 'unreachable-rclone.conf');
    writeFileSync(config, '[site-backup]\ntype = s3\nprovider = Other\nendpoint = http://127.0.19.9:9\naccess_key_id = x\nsecret_access_key = y\n', { mode: 0o600 });
    const env = envFileOf(members[0], { ...settingsOf(members[0]), remote: 'site-backup:bucket/site/etcd', rcloneConfig: config });
    const result = await run(KUBEADM_BACKUP_SCRIPT, env);
    expect(result.status).not.toBe(0);
    expect(snapshotsOnTarget()).toEqual(before);
    expect(metric()).toBe(metricBefore);
  }, 300_000);

  test('with the generated rclone configuration, the job uploads to the S3 target, signed with the site\'s keys, and keeps the retention there', async () => {
    const env = envFileOf(members[0], s3Settings(members[0]));
    for (let run_ = 0; run_ < 3; run_++) {
      const result = await run(KUBEADM_BACKUP_SCRIPT, env);
      expect([result.status, result.status === 0 ? '' : result.stderr]).toEqual([0, '']);
      await new Promise((r) => setTimeout(r, 1100));
    }
    const kept = s3.keys('kubeadm-stacked/etcd/');
    expect(kept).toHaveLength(2);
    expect(kept.every((key) => /^kubeadm-stacked\/etcd\/etcd-snapshot-cp1-\d{8}T\d{6}Z\.db$/.test(key))).toBe(true);
    expect(s3.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(s3.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  }, 120_000);

  test('with wrong credentials the job fails, the last good backups stay, no success is recorded', async () => {
    const before = s3.keys();
    const metricBefore = metric();
    const result = await run(KUBEADM_BACKUP_SCRIPT, envFileOf(members[0], s3Settings(members[0], 'wrong/Secret+Key=000000000000000000000000')));
    expect(result.status).not.toBe(0);
    expect(s3.requests.some((r) => r.status === 403)).toBe(true);
    expect(s3.keys()).toEqual(before);
    expect(metric()).toBe(metricBefore);
    // The secret is never printed.
    expect(result.stdout + result.stderr).not.toContain('wrong/Secret');
  }, 300_000);

  test('every member killed (two wiped), the generated restore run on each: the snapshot\'s keys and the three members are back', async () => {
    expect(snapshot).not.toBe('');
    expect(etcdctl('put', '/registry/drill/after-snapshot', 'lost').status).toBe(0);
    await stopAll();
    // Two members lost their disks; the third keeps its old data, which the restore moves aside.
    members.slice(0, 2).forEach((member) => rmSync(dataDir(member.name), { recursive: true, force: true }));

    const started = Date.now();
    // The newest snapshot on the S3 target, fetched by each member's restore.
    const fromS3 = s3.keys('kubeadm-stacked/etcd/').pop()!.split('/').pop()!;
    for (const member of members) {
      const result = await run(KUBEADM_RESTORE_SCRIPT, envFileOf(member, s3Settings(member)), [fromS3]);
      expect([member.name, result.status, result.status === 0 ? '' : result.stderr]).toEqual([member.name, 0, '']);
      expect(result.stdout).toContain(`restored member ${member.name}`);
      // The static pods are back where kubelet reads them.
      expect(readdirSync(join(dir, 'manifests', member.name)).sort()).toEqual(['etcd.yaml', 'kube-apiserver.yaml', 'kube-scheduler.yaml']);
    }
    expect(readdirSync(join(dir, 'data')).filter((name) => name.startsWith('cp3.before-restore-'))).toHaveLength(1);
    const restored = Date.now();
    members.forEach(start);
    await waitHealthy(60);
    console.log(`etcd drill: restore-etcd on 3 members took ${restored - started} ms, the restarted cluster was healthy ${Date.now() - restored} ms later`);

    const keys = etcdctl('get', '/registry/drill/', '--prefix', '--keys-only').stdout.split('\n').filter(Boolean);
    expect(keys).toHaveLength(KEYS);
    expect(etcdctl('get', '/registry/drill/key-7', '--print-value-only').stdout.trim()).toBe('value-7');
    expect(keys).not.toContain('/registry/drill/after-snapshot');
    const list = etcdctl('member', 'list', '--write-out=json');
    const memberList = (JSON.parse(list.stdout) as { members: { name: string; peerURLs: string[] }[] }).members;
    expect(memberList.map((m) => [m.name, m.peerURLs]).sort()).toEqual(members.map((m) => [m.name, [m.peerUrl]]));
    // The restored cluster takes writes.
    expect(etcdctl('put', '/registry/drill/after-restore', 'ok').status).toBe(0);
  }, 180_000);
});

describeWithTools(['etcdctl'], 'restore-etcd on a kubeadm control plane refuses before it stops anything', () => {
  const dir = blockTempDir('pkh-etcd-refuse-');
  const manifests = join(dir, 'manifests');
  const member = { name: 'cp1', peerUrl: 'http://127.0.19.1:32380' };
  const envFile = join(dir, 'etcd-backup.env');
  beforeAll(() => {
    mkdirSync(manifests);
    writeFileSync(join(manifests, 'etcd.yaml'), '# etcd\n');
    writeFileSync(envFile, renderKubeadmEtcdBackupEnv({
      member, members: [member], endpoint: 'http://127.0.19.1:32999', remote: join(dir, 'bucket'), retention: 2,
      backupDir: join(dir, 'local'), dataDir: join(dir, 'data'), staticPodDir: manifests,
    }));
    writeFileSync(join(dir, 'restore-etcd'), KUBEADM_RESTORE_SCRIPT, { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const restore = (...args: string[]) => spawnSync(join(dir, 'restore-etcd'), args, {
    encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, PKH_ETCD_BACKUP_ENV: envFile },
  });

  test.each([
    ['no snapshot argument', [] as string[], 2, /^usage: restore-etcd/],
    ['a name with a path in it that is no file here', ['no-such-dir/etcd-snapshot.db'], 2, /neither a file here nor a snapshot name/],
    ['a damaged snapshot file', ['DAMAGED'], 1, /./],
  ])('%s', (_, args, status, message) => {
    const files = args[0] === 'DAMAGED' ? [join(dir, 'damaged.db')] : args;
    if (args[0] === 'DAMAGED') {
      writeFileSync(files[0], 'not an etcd snapshot');
    }
    const result = restore(...files);
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message);
    // Nothing was stopped: the static pod manifests are where kubelet reads them.
    expect(readdirSync(manifests)).toEqual(['etcd.yaml']);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });
});
