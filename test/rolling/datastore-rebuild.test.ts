import { readFileSync } from 'fs';
import { join } from 'path';
import { defineSite } from '../../constructs';
import { etcdClientUrl } from '../../constructs/renderers';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import { LabHost } from './lab';
import {
  DATASTORE_HOSTS, DATASTORE_LEADER, DATASTORE_REPLICA, DatastoreLab, DatastoreRebuild, POSTGRES_DATA_DIR, POSTGRES_VERSION, localSql, patroniMembers, roles,
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
  'rebuilding datastore etcd members with the real Terraform CLI: a Patroni replica, the etcd witness and the leader, while a client writes', () => {
    let lab: DatastoreLab;
    let run: RollingRun;
    const host = (name: string) => lab.host(name);
    const etcdctlOn = (name: string) => lab.etcdctlOn(name);
    const replicationOf = (name: string, leader?: string) => lab.replicationOf(name, leader);

    function report(name: string, ms: number, written: { acknowledged: number[]; failed: number }, lost: Record<string, number[]>) {
      const lostCount = Math.max(...Object.values(lost).map((ids) => ids.length));
      process.stdout.write(`rebuild ${name}: apply ${ms} ms, writes acknowledged ${written.acknowledged.length}, failed ${written.failed}, lost ${lostCount}\n`);
    }

    /** The apply replaced exactly `name`'s machine and its etcd member (a new ID); every member started; `stays` kept its ID. */
    function expectMemberReplaced(name: string, rebuild: DatastoreRebuild<unknown>, before: ReturnType<typeof etcdMembers>, via: string, stays: string) {
      const { result, events } = rebuild;
      expect({ status: result.status, tail: result.output.slice(-3000) }).toEqual({ status: 0, tail: expect.stringContaining('Apply complete!') });
      expect(events.filter((e) => !e.event.endsWith('-done')).map((e) => `${e.event} ${e.host}`)).toEqual([`destroy ${name}`, `create ${name}`]);
      const after = etcdMembers(run, host(via), etcdctlOn(via));
      expect(Object.fromEntries([...after].map(([member, m]) => [member, m.status]))).toEqual(Object.fromEntries(HOSTS.map((h) => [h.name, 'started'])));
      expect(after.get(name)!.id).not.toBe(before.get(name)!.id);
      expect(after.get(stays)!.id).toBe(before.get(stays)!.id);
    }

    /**
     * `rebuilt` is `leader`'s synchronous standby again, on its timeline, in a data directory cloned anew
     * (pg_basebackup's backup_label, renamed once recovery started; no marker) of the same cluster.
     */
    function expectClonedStandby(leaderName: string, rebuilt: string, streaming: boolean, systemIdentifier: string | undefined) {
      expect({ streaming, replication: replicationOf(rebuilt, leaderName) }).toEqual({ streaming: true, replication: 'streaming|sync' });
      const members = patroniMembers(run, host(leaderName));
      const leader = members.find((m) => m.Member === leaderName)!;
      const replica = members.find((m) => m.Member === rebuilt)!;
      expect({ role: leader.Role, replicaRole: replica.Role, state: replica.State, tl: replica.TL })
        .toEqual({ role: 'Leader', replicaRole: 'Sync Standby', state: expect.stringMatching(/^(running|streaming)$/), tl: leader.TL });
      expect(run.lab.readHostFile(host(rebuilt), MARKER)).toBeUndefined();
      expect(run.lab.readHostFile(host(rebuilt), `${POSTGRES_DATA_DIR}/PG_VERSION`)?.trim()).toBe(String(POSTGRES_VERSION));
      expect(run.lab.readHostFile(host(rebuilt), `${POSTGRES_DATA_DIR}/backup_label.old`)).toContain('LABEL: pg_basebackup');
      expect(localSql(run, host(rebuilt), 'SELECT system_identifier FROM pg_control_system()')).toBe(systemIdentifier);
    }

    /**
     * No acknowledged write lost on either node; writes failed only inside `failWindow` (from the destroy, a second
     * early, until the standby streamed again) or, without one, none; a second apply changes nothing.
     */
    async function expectNothingLost(name: string, rebuild: DatastoreRebuild<unknown>, failWindow: boolean) {
      const { result, written, events, streamingAgain } = rebuild;
      const lost = await lab.lostWrites(written.acknowledged);
      report(name, result.ms, written, lost);
      expect(written.acknowledged.length).toBeGreaterThan(10);
      expect(lost).toEqual({ [LEADER]: [], [REPLICA]: [] });
      if (failWindow) {
        const destroyedAt = events.find((e) => e.event === 'destroy')!.t;
        expect(written.failedAt.filter((t) => t < destroyedAt - 1_000 || t > streamingAgain)).toEqual([]);
      } else {
        expect(written.failed).toBe(0);
      }
      const again = await run.apply();
      expect(again.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed');
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

      const rebuild = await lab.rebuild({ [REPLICA]: 2 });
      expectMemberReplaced(REPLICA, rebuild, before, LEADER, PG_WITNESS.name);
      expect(rebuild.result.output).toContain(`${REPLICA}: the previous machine's etcd member is replaced`);
      expectClonedStandby(LEADER, REPLICA, rebuild.streaming, systemIdentifier);
      // A write may fail only while the synchronous standby is gone (between its destroy and its streaming again:
      // until Patroni drops it from synchronous_standby_names, a commit waits for it), never before or after.
      await expectNothingLost(REPLICA, rebuild, true);
    }, 1_200_000);

    test(`rebuild ${PG_WITNESS.name} (the etcd witness): its member is replaced, etcd keeps quorum throughout, no acknowledged write is lost`, async () => {
      const before = etcdMembers(run, host(LEADER), etcdctlOn(LEADER));
      const plan = defineSite(lab.spec({}));
      const leaderEndpoint = etcdClientUrl(plan.postgres!.tls, host(LEADER).ip);
      const rebuild = await lab.rebuild({ [REPLICA]: 2, [PG_WITNESS.name]: 2 }, () => startQuorumProbe(run, leaderEndpoint));
      expectMemberReplaced(PG_WITNESS.name, rebuild, before, LEADER, REPLICA);
      expect(run.lab.exec(host(PG_WITNESS.name), `${etcdctlOn(PG_WITNESS.name)} --dial-timeout=2s --command-timeout=5s endpoint health`)).toMatchObject({ status: 0 });
      // Quorum all along: every health read through a staying member answered.
      const quorum = rebuild.sideResult!;
      process.stdout.write(`rebuild ${PG_WITNESS.name}: quorum probes ${quorum.probes}, failed ${quorum.failures.length}\n`);
      expect(quorum.probes).toBeGreaterThan(10);
      expect(quorum.failures).toEqual([]);
      // The witness holds no PostgreSQL: Patroni keeps its leader and synchronous commit, so no write fails either.
      expect(Object.fromEntries(roles(run, host(LEADER)))).toEqual({ [LEADER]: 'Leader', [REPLICA]: 'Sync Standby' });
      await expectNothingLost(PG_WITNESS.name, rebuild, false);
    }, 1_200_000);

    test(`rebuild ${LEADER} (the Patroni leader): ${REPLICA} takes over, the rebuilt node's etcd member is replaced and Patroni clones it from the new leader, no acknowledged write is lost`, async () => {
      expect(roles(run, host(LEADER)).get(LEADER)).toBe('Leader');
      const before = etcdMembers(run, host(REPLICA), etcdctlOn(REPLICA));
      const timelineBefore = patroniMembers(run, host(REPLICA)).find((m) => m.Member === LEADER)!.TL;
      expect(run.lab.exec(host(LEADER), `touch ${MARKER}`)).toMatchObject({ status: 0 });
      const systemIdentifier = localSql(run, host(REPLICA), 'SELECT system_identifier FROM pg_control_system()');

      const rebuild = await lab.rebuild({ [REPLICA]: 2, [PG_WITNESS.name]: 2, [LEADER]: 1 }, undefined, { leader: REPLICA, replica: LEADER });
      expectMemberReplaced(LEADER, rebuild, before, REPLICA, PG_WITNESS.name);
      expect(rebuild.result.output).toContain(`${LEADER}: the previous machine's etcd member is replaced`);
      // The synchronous standby was promoted (a new timeline); the rebuilt node follows it, cloned anew.
      expectClonedStandby(REPLICA, LEADER, rebuild.streaming, systemIdentifier);
      expect(Number(patroniMembers(run, host(REPLICA)).find((m) => m.Member === REPLICA)!.TL)).toBeGreaterThan(Number(timelineBefore));
      // Writes fail only from the leader's destroy until the rebuilt node streams again (the failover, then commits
      // waiting for a synchronous standby), never before or after.
      await expectNothingLost(LEADER, rebuild, true);
    }, 1_200_000);
  }, { needsRoot: true });
