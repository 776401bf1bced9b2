import { readFileSync } from 'fs';
import { join } from 'path';
import { defineSite } from '../../constructs';
import { etcdClientUrl } from '../../constructs/renderers';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { LabHost } from './lab';
import {
  DATASTORE_HOSTS, DATASTORE_LEADER, DATASTORE_REPLICA, DatastoreLab, POSTGRES_DATA_DIR, POSTGRES_VERSION, localSql, patroniMembers, roles,
} from './postgres-lab';
import { startProbeLoop } from './probe-loop';
import { PG_WITNESS, RollingRun } from './rolling-site';

// Rebuilding a datastore etcd member for real (issue 18): the datastore site (Patroni on pg-1 and pg-2, the etcd
// witness on pg-witness) synthesized WITH machines, applied by the real Terraform CLI with the stand-in providers,
// whose guest hook acts a destroy out on the lab host (services stopped, state and data directories wiped) and a
// create as the same, now empty, host. A `generation` bump must replace the etcd member (DatastoreRejoin), let the
// new machine's etcd join as `existing`, Patroni re-clone the replica, and lose no acknowledged write.

const HOSTS = DATASTORE_HOSTS;
const REPLICA = DATASTORE_REPLICA;
const LEADER = DATASTORE_LEADER;
/** A file put in the replica's data directory before its rebuild: a re-created data directory does not have it. */
const MARKER = `${POSTGRES_DATA_DIR}/rebuild-marker`;

/** `etcdctl member list` from a member as name → { id, status }. */
function etcdMembers(run: RollingRun, host: LabHost, etcdctl: string): Map<string, { id: string; status: string }> {
  const result = run.lab.exec(host, `${etcdctl} --dial-timeout=2s --command-timeout=5s member list`);
  const members = new Map<string, { id: string; status: string }>();
  for (const line of result.stdout.split('\n').filter(Boolean)) {
    const [id, status, name, peerUrl] = line.split(', ');
    members.set(name || `(unnamed ${peerUrl})`, { id, status });
  }
  return members;
}

/** Counts `etcdctl endpoint health` answers of one member (a linearizable read: it fails without quorum) from the client namespace until stopped. */
function startQuorumProbe(run: RollingRun, endpoint: string) {
  let probes = 0;
  const failures: number[] = [];
  const loop = startProbeLoop(async () => {
    probes += 1;
    const { status } = await run.lab.runInClient(['etcdctl', '--endpoints', endpoint, '--dial-timeout=2s', '--command-timeout=3s', 'endpoint', 'health'], {}, 8_000);
    if (status !== 0) {
      failures.push(Date.now());
    }
  }, 250, 4000);
  return {
    stop: async () => {
      await loop.stop();
      return { probes, failures };
    },
  };
}

describeWithTools(['sshd', 'terraform', 'haproxy', 'keepalived', 'pg_ctlcluster', '/usr/bin/patroni', 'etcd', 'etcdctl', 'ip', 'nsenter', 'unshare', 'ssh-keygen', 'runuser', 'shellcheck'],
  'rebuilding datastore etcd members with the real Terraform CLI: a Patroni replica and the etcd witness, while a client writes', () => {
    let lab: DatastoreLab;
    let run: RollingRun;
    const host = (name: string) => lab.host(name);
    const etcdctlOn = (name: string) => lab.etcdctlOn(name);
    const replicationOf = (name: string) => lab.replicationOf(name);

    function report(name: string, ms: number, written: { acknowledged: number[]; failed: number }, lost: Record<string, number[]>) {
      const lostCount = Math.max(...Object.values(lost).map((ids) => ids.length));
      process.stdout.write(`rebuild ${name}: apply ${ms} ms, writes acknowledged ${written.acknowledged.length}, failed ${written.failed}, lost ${lostCount}\n`);
    }

    beforeAll(async () => {
      for (const script of ['guest-hook.sh', 'guest-destroy.sh']) {
        const checked = shellcheck(readFileSync(join(__dirname, script), 'utf8'));
        expect({ script, ok: checked.ok, output: checked.output }).toEqual({ script, ok: true, output: '' });
      }
      // The first apply creates the three machines; pg-1 leads, pg-2 is its synchronous standby (or it throws).
      lab = await DatastoreLab.start();
      run = lab.run;
    }, 900_000);
    afterAll(async () => {
      await lab?.stop();
    }, 60_000);

    test(`rebuild ${REPLICA} (the synchronous standby; ${LEADER} leads): its etcd member is replaced, Patroni re-clones it, no acknowledged write is lost`, async () => {
      expect(roles(run, host(LEADER)).get(LEADER)).toBe('Leader');
      const before = etcdMembers(run, host(LEADER), etcdctlOn(LEADER));
      expect([...before.keys()].sort()).toEqual(HOSTS.map((h) => h.name).sort());
      expect(run.lab.exec(host(REPLICA), `touch ${MARKER}`)).toMatchObject({ status: 0 });
      const systemIdentifier = localSql(run, host(LEADER), 'SELECT system_identifier FROM pg_control_system()');

      const { result, streaming, streamingAgain, written, events } = await lab.rebuild({ [REPLICA]: 2 });
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(events.filter((e) => !e.event.endsWith('-done')).map((e) => `${e.event} ${e.host}`)).toEqual([`destroy ${REPLICA}`, `create ${REPLICA}`]);
      expect(result.output).toContain(`${REPLICA}: the previous machine's etcd member is replaced`);

      // etcd: three started members, the rebuilt one under a new member ID.
      const after = etcdMembers(run, host(LEADER), etcdctlOn(LEADER));
      expect(Object.fromEntries([...after].map(([name, m]) => [name, m.status]))).toEqual(Object.fromEntries(HOSTS.map((h) => [h.name, 'started'])));
      expect(after.get(REPLICA)!.id).not.toBe(before.get(REPLICA)!.id);
      expect(after.get(PG_WITNESS.name)!.id).toBe(before.get(PG_WITNESS.name)!.id);

      // Patroni: the rebuilt node is the synchronous standby again, streaming from the leader on its timeline, in a
      // data directory cloned anew (pg_basebackup's backup_label, renamed once recovery started) of the same cluster.
      expect({ streaming, replication: replicationOf(REPLICA) }).toEqual({ streaming: true, replication: 'streaming|sync' });
      const members = patroniMembers(run, host(LEADER));
      const leader = members.find((m) => m.Member === LEADER)!;
      const replica = members.find((m) => m.Member === REPLICA)!;
      expect({ role: leader.Role, replicaRole: replica.Role, state: replica.State, tl: replica.TL })
        .toEqual({ role: 'Leader', replicaRole: 'Sync Standby', state: expect.stringMatching(/^(running|streaming)$/), tl: leader.TL });
      expect(run.lab.readHostFile(host(REPLICA), MARKER)).toBeUndefined();
      expect(run.lab.readHostFile(host(REPLICA), `${POSTGRES_DATA_DIR}/PG_VERSION`)?.trim()).toBe(String(POSTGRES_VERSION));
      expect(run.lab.readHostFile(host(REPLICA), `${POSTGRES_DATA_DIR}/backup_label.old`)).toContain('LABEL: pg_basebackup');
      expect(localSql(run, host(REPLICA), 'SELECT system_identifier FROM pg_control_system()')).toBe(systemIdentifier);

      const lost = await lab.lostWrites(written.acknowledged);
      report(REPLICA, result.ms, written, lost);
      expect(written.acknowledged.length).toBeGreaterThan(10);
      expect(lost).toEqual({ [LEADER]: [], [REPLICA]: [] });
      // A write may fail only while the synchronous standby is gone (between its destroy and its streaming again:
      // until Patroni drops it from synchronous_standby_names, a commit waits for it), never before or after.
      const destroyedAt = events.find((e) => e.event === 'destroy')!.t;
      expect(written.failedAt.filter((t) => t < destroyedAt - 1_000 || t > streamingAgain)).toEqual([]);

      const again = await run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 1_200_000);

    test(`rebuild ${PG_WITNESS.name} (the etcd witness): its member is replaced, etcd keeps quorum throughout, no acknowledged write is lost`, async () => {
      const before = etcdMembers(run, host(LEADER), etcdctlOn(LEADER));
      const plan = defineSite(lab.spec({}));
      const leaderEndpoint = etcdClientUrl(plan.postgres!.tls, host(LEADER).ip);
      const { result, written, sideResult, events } = await lab.rebuild({ [REPLICA]: 2, [PG_WITNESS.name]: 2 }, () => startQuorumProbe(run, leaderEndpoint));
      const quorum = sideResult!;
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(events.filter((e) => !e.event.endsWith('-done')).map((e) => `${e.event} ${e.host}`)).toEqual([`destroy ${PG_WITNESS.name}`, `create ${PG_WITNESS.name}`]);

      const after = etcdMembers(run, host(LEADER), etcdctlOn(LEADER));
      expect(Object.fromEntries([...after].map(([name, m]) => [name, m.status]))).toEqual(Object.fromEntries(HOSTS.map((h) => [h.name, 'started'])));
      expect(after.get(PG_WITNESS.name)!.id).not.toBe(before.get(PG_WITNESS.name)!.id);
      expect(run.lab.exec(host(PG_WITNESS.name), `${etcdctlOn(PG_WITNESS.name)} --dial-timeout=2s --command-timeout=5s endpoint health`)).toMatchObject({ status: 0 });
      // Quorum all along: every health read through a staying member answered.
      process.stdout.write(`rebuild ${PG_WITNESS.name}: quorum probes ${quorum.probes}, failed ${quorum.failures.length}\n`);
      expect(quorum.probes).toBeGreaterThan(10);
      expect(quorum.failures).toEqual([]);

      const lost = await lab.lostWrites(written.acknowledged);
      report(PG_WITNESS.name, result.ms, written, lost);
      expect(written.acknowledged.length).toBeGreaterThan(10);
      // The witness holds no PostgreSQL: Patroni keeps its leader and synchronous commit, so no write fails either.
      expect(written.failed).toBe(0);
      expect(lost).toEqual({ [LEADER]: [], [REPLICA]: [] });
      expect(Object.fromEntries(roles(run, host(LEADER)))).toEqual({ [LEADER]: 'Leader', [REPLICA]: 'Sync Standby' });

      const again = await run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
    }, 1_200_000);
  }, { needsRoot: true });
