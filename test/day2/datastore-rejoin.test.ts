import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { SiteSpec, defineSite } from '../../constructs';
import { POSTGRES_ASSET_DIR, PostgresAsset } from '../../constructs/renderers';
import { LifecycleScript, lifecycleScript } from '../../constructs/tf/lifecycle/lifecycle-scripts';
import homelab from '../../sites/homelab';
import { logicalIdOf, resourcesByPath, synthSite } from '../support/synth';
import { createLabCa, issueCertificate } from '../datastore/harness';
import { describeWithTools } from '../support/tools';

// A datastore etcd member rebuilt on purpose (generation raised) is replaced in the running etcd cluster from another
// member before its new machine is made, and the new machine's etcd joins that cluster ("existing").

const plan = defineSite(homelab);
const witness = plan.postgres!.witness!.name;
const [firstNode, secondNode] = plan.postgres!.etcdMembers.filter((m) => m.name !== witness).map((m) => m.name);
const rebuilt = (spec: SiteSpec, name: string): SiteSpec => ({ ...spec, hosts: spec.hosts.map((h) => (h.name === name ? { ...h, generation: 1 } : h)) });

describe('the rejoin step in the stack', () => {
  const json = synthSite(defineSite(rebuilt(homelab, secondNode))).json;
  const data = resourcesByPath(json, 'terraform_data');

  test('runs on another member before the rebuilt machine is created, with that member\'s certificates', () => {
    const step = data[`homelab/${secondNode}-DatastoreRejoin/Resource`];
    const via = plan.hosts.find((h) => h.name === firstNode)!;
    const member = plan.hosts.find((h) => h.name === secondNode)!;
    expect(step.triggers_replace).toEqual({ member: secondNode, generation: 1 });
    expect(step.connection).toMatchObject({ host: via.ip });
    const [command] = (step.provisioner as { 'remote-exec': { inline: string[] } }[])[0]['remote-exec'].inline;
    expect(command).toMatch(/^sudo env PKH_ETCD_ENDPOINT=https:\/\/[\d.]+:2379 PKH_ETCDCTL_TLS='--cacert \/etc\/proxmox-k3s-ha\/etcd-tls\/ca\.crt --cert \/etc\/proxmox-k3s-ha\/etcd-tls\/member\.crt --key \/etc\/proxmox-k3s-ha\/etcd-tls\/member\.key' PKH_ETCD_DATA_DIR=\/var\/lib\/etcd\/proxmox-k3s-ha sh -eu -c /);
    expect(command).toContain(`datastore-etcd-rejoin '${secondNode}' 'https://${member.ip}:2380' 'https://${member.ip}:2379'`);
    expect(command).toContain(`PKH_ETCD_ENDPOINT=https://${via.ip}:2379`);
    const vm = resourcesByPath(json, 'proxmox_virtual_environment_vm')[`homelab/${secondNode}/Resource`];
    expect(vm.depends_on).toContain(`terraform_data.${logicalIdOf(json, `homelab/${secondNode}-DatastoreRejoin/Resource`)}`);
  });

  test('exists only for a rebuilt member', () => {
    expect(Object.keys(resourcesByPath(synthSite(plan).json, 'terraform_data')).filter((path) => path.includes('DatastoreRejoin'))).toEqual([]);
    expect(Object.keys(data).filter((path) => path.includes('DatastoreRejoin'))).toEqual([`homelab/${secondNode}-DatastoreRejoin/Resource`]);
  });
});

/** A member on loopback: its name, addresses and data directory. */
interface Member { readonly name: string; readonly peer: string; readonly client: string; readonly dataDir: string }

const REJOIN = lifecycleScript(LifecycleScript.DATASTORE_ETCD_REJOIN);
const INITIAL_STATE = join(POSTGRES_ASSET_DIR, PostgresAsset.ETCD_INITIAL_STATE);

/**
 * The same as the stack's step and ExecStartPre do it, against real etcd members on loopback: plain, or (homelab's
 * datastore) with TLS between members and clients, etcdctl authenticating with a member's certificate.
 */
function describeRealEtcd(tls: boolean): void {
  describeWithTools(['etcd', 'etcdctl', 'openssl'], `a member replaced in a real 3-member etcd${tls ? ' with TLS' : ''}, and the initial state a member starts with`, () => {
    // Named, not made, at collection: a skipped or filtered run makes nothing it would not clean up (beforeAll makes it).
    const dir = join(tmpdir(), `pkh-etcd-rejoin-${tls ? 'tls' : 'plain'}-${process.pid}`);
    const processes = new Map<string, ChildProcess>();
    const scheme = tls ? 'https' : 'http';
    const net = tls ? 40 : 39;
    const member = (cluster: string, name: string, i: number): Member => ({
      name, peer: `${scheme}://127.0.${net}.${i}:33380`, client: `${scheme}://127.0.${net}.${i}:33379`, dataDir: join(dir, cluster, name),
    });
    const first = [member('one', 'm1', 1), member('one', 'm2', 2), member('one', 'm3', 3)];
    const second = [member('two', 'n1', 4), member('two', 'n2', 5), member('two', 'n3', 6)];
    /** etcdctl's TLS options as a member passes them (its own certificate as the client's), or none. */
    const tlsOptions = (m: Member) => (tls ? ['--cacert', join(dir, 'ca.crt'), '--cert', join(dir, m.name, 'member.crt'), '--key', join(dir, m.name, 'member.key')] : []);

    function start(m: Member, cluster: readonly Member[], state: string): void {
      const own = (prefix: string) => [`--${prefix}cert-file`, join(dir, m.name, 'member.crt'), `--${prefix}key-file`, join(dir, m.name, 'member.key'), `--${prefix}trusted-ca-file`, join(dir, 'ca.crt'), `--${prefix}client-cert-auth`];
      const child = spawn('etcd', [
        '--name', m.name, '--data-dir', m.dataDir, '--listen-client-urls', m.client, '--advertise-client-urls', m.client,
        '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', cluster.map((c) => `${c.name}=${c.peer}`).join(','),
        '--initial-cluster-state', state, '--initial-cluster-token', `rejoin-${cluster[0].name}`,
        ...(tls ? [...own(''), ...own('peer-')] : []),
      ], { stdio: ['ignore', 'ignore', 'ignore'] });
      processes.set(m.name, child);
    }
    async function stop(name: string): Promise<void> {
      const child = processes.get(name);
      processes.delete(name);
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      await new Promise<void>((done) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => { clearTimeout(kill); done(); });
        child.kill('SIGTERM');
      });
    }
    const etcdctl = (endpoint: string, ...args: string[]) => spawnSync('etcdctl', ['--endpoints', endpoint, ...tlsOptions(first[0]), '--dial-timeout=2s', '--command-timeout=5s', ...args], { encoding: 'utf8', timeout: 20_000 });
    const memberList = (endpoint: string) => etcdctl(endpoint, 'member', 'list').stdout.split('\n').filter(Boolean).map((line) => line.split(', '));
    async function waitFor(what: string, probe: () => boolean, ms = 30_000): Promise<void> {
      const end = Date.now() + ms;
      while (!probe()) {
        if (Date.now() > end) {
          throw new Error(`${what}: not within ${ms} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    /** Runs a script without blocking the event loop. */
    const runScript = (argv: string[], env: Record<string, string>) => new Promise<{ status: number | null; output: string }>((done) => {
      const child = spawn(argv[0], argv.slice(1), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('close', (status) => { clearTimeout(timer); done({ status, output }); });
    });
    /** The rejoin step as the stack runs it (`sh -eu -c SCRIPT datastore-etcd-rejoin MEMBER PEER CLIENT`), on `via`. */
    const rejoin = (via: Member, m: Member, waitSeconds = 60) => runScript(['sh', '-eu', '-c', REJOIN, 'datastore-etcd-rejoin', m.name, m.peer, m.client],
      { PKH_ETCD_ENDPOINT: via.client, PKH_ETCDCTL_TLS: tlsOptions(via).join(' '), PKH_ETCD_DATA_DIR: via.dataDir, PKH_WAIT_SECONDS: String(waitSeconds) });
    /** etcd's ExecStartPre as the drop-in runs it; resolves to the state it wrote. */
    const initialState = async (m: Member, cluster: readonly Member[]) => {
      const out = join(dir, 'run', `${m.name}.env`);
      const result = await runScript([INITIAL_STATE, out, m.peer, cluster.filter((c) => c !== m).map((c) => c.client).join(','), ...tlsOptions(m)], { ETCD_DATA_DIR: m.dataDir });
      expect(result.status).toBe(0);
      return /^ETCD_INITIAL_CLUSTER_STATE=(new|existing)$/m.exec(readFileSync(out, 'utf8'))![1];
    };

    beforeAll(async () => {
      mkdirSync(join(dir, 'run'), { recursive: true });
      if (tls) {
        // Server and client use, like the stack's member certificates. Also 127.0.0.1: etcd checks a peer's source
        // address against its certificate, and on loopback every connection comes from there.
        createLabCa(dir, 'rejoin-test-ca');
        [...first, ...second].forEach((m, i) => issueCertificate(dir, m.name, { dnsNames: [], ipAddresses: [new URL(m.client).hostname, '127.0.0.1'] }, i + 1));
      }
      first.forEach((m) => start(m, first, 'new'));
      await waitFor('the first cluster has a quorum', () => etcdctl(first[0].client, 'endpoint', 'health').status === 0);
      for (let i = 0; i < 20; i++) {
        expect(etcdctl(first[0].client, 'put', `key-${i}`, `value-${i}`).status).toBe(0);
      }
    }, 60_000);
    afterAll(async () => {
      await Promise.all([...processes.keys()].map(stop));
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    test('a new datastore: no member answers, so each starts "new"', async () => {
      expect(await initialState(second[0], second)).toBe('new');
    }, 60_000);

    test('before the datastore exists the rejoin step does nothing', async () => {
      const result = await rejoin({ ...first[0], dataDir: join(dir, 'none') }, first[1]);
      expect(result).toEqual({ status: 0, output: 'proxmox-k3s-ha: m2: no datastore etcd on this member yet, nothing to rejoin\n' });
    }, 60_000);

    test('the old member still answering: the step waits, bounded, and fails naming what it waited for', async () => {
      const result = await rejoin(first[0], first[1], 3);
      expect(result.status).toBe(1);
      expect(result.output).toContain(`proxmox-k3s-ha: m2: datastore etcd rejoin: gave up after 3 s waiting for the previous machine's etcd at ${first[1].client} to stop answering`);
    }, 60_000);

    test('rebuilt: the old member is replaced, the new one starts "existing", joins, and has every key', async () => {
      const [via, old] = first;
      const oldId = memberList(via.client).find((line) => line[2] === old.name)![0];
      await stop(old.name);
      rmSync(old.dataDir, { recursive: true, force: true });
      const replaced = await rejoin(via, old);
      expect(replaced.output).toContain('proxmox-k3s-ha: m2: the previous machine\'s etcd member is replaced; the rebuilt machine joins the existing cluster');
      expect(replaced.status).toBe(0);
      const added = memberList(via.client).find((line) => line[3] === old.peer)!;
      expect(added[0]).not.toBe(oldId);
      expect(added[1]).toBe('unstarted');
      // Idempotent before the new machine starts (a retried apply).
      expect(await rejoin(via, old)).toEqual({ status: 0, output: 'proxmox-k3s-ha: m2: already added again, waiting for its new machine\n' });

      expect(await initialState(old, first)).toBe('existing');
      start(old, first, 'existing');
      await waitFor('the rebuilt member started', () => memberList(via.client).every((line) => line[1] === 'started') && memberList(via.client).length === 3);
      await waitFor('the rebuilt member serves the keys', () => etcdctl(old.client, 'get', 'key-19', '--print-value-only').stdout.trim() === 'value-19');
      expect(etcdctl(old.client, 'get', 'key-', '--prefix', '--keys-only').stdout.split('\n').filter(Boolean)).toHaveLength(20);
    }, 120_000);

    test('a member of a new datastore that starts after the two others formed it (listed under its name, unlike one added again) starts "new" and joins', async () => {
      second.slice(0, 2).forEach((m) => start(m, second, 'new'));
      await waitFor('two of three members have a quorum', () => etcdctl(second[0].client, 'endpoint', 'health').status === 0);
      expect(memberList(second[0].client).find((line) => line[3] === second[2].peer)!.slice(1, 3)).toEqual(['started', second[2].name]);
      expect(await initialState(second[2], second)).toBe('new');
      start(second[2], second, 'new');
      await waitFor('all three started', () => memberList(second[0].client).filter((line) => line[1] === 'started').length === 3);
      expect(etcdctl(second[2].client, 'endpoint', 'health').status).toBe(0);
    }, 120_000);
  });
}

describeRealEtcd(false);
describeRealEtcd(true);
