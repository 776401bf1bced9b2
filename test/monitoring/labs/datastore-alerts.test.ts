import { describeWithTools } from '../../support/tools';
import { DATASTORE_TOOLS, DatastoreAlertLab, SCALED_NOTICE_MS, noPrimary, patroniFailover, startDatastoreAlertLab, stopEtcdMember } from './datastore-alerts';
import { FOR_SCALE, LAB_INTERVAL_SECONDS, formatTiming } from './lab-prometheus';

/**
 * Real scrape, real fault in the datastore lab: a real Prometheus on a K3s server scrapes the real Patroni, etcd and
 * HAProxy over the lab's network (TLS with the datastore CA and its own client certificate), evaluates the generated
 * datastore rules (each `for` and the failover notice window divided by FOR_SCALE, printed), and an etcd member
 * stopped or a Patroni failover fires its alert; the repair resolves it. Needs root; skipped naming the missing tool.
 */
describeWithTools(DATASTORE_TOOLS, 'alerts in the datastore lab (real Prometheus, etcd, Patroni, PostgreSQL, HAProxy)', () => {
  let d: DatastoreAlertLab | undefined;
  const scaled = (alert: string) => d!.rules.find((r) => r.alert === alert)!.scaledForSeconds * 1000;

  beforeAll(async () => {
    d = await startDatastoreAlertLab();
    console.log(`datastore alert lab: every for ÷ ${FOR_SCALE}, PatroniFailover's window ${SCALED_NOTICE_MS / 1000}s, scrape and evaluation every ${LAB_INTERVAL_SECONDS}s: `
      + d.rules.map((r) => `${r.alert} ${r.scaledForSeconds}s`).join(', '));
  }, 480_000);

  afterAll(async () => {
    await d?.stop();
  }, 60_000);

  test('healthy lab: Patroni, etcd and HAProxy targets up, a primary and a sync standby by the metrics, no alert but the Watchdog', async () => {
    expect(await d!.prometheus.upInstances('patroni')).toEqual(['db-1', 'db-2']);
    expect(await d!.prometheus.upInstances('datastore-etcd')).toEqual(['db-1', 'db-2', 'server-1']);
    expect(await d!.prometheus.upInstances('haproxy')).toEqual(['server-1']);
    // No condition even pending for 10 s (evaluated every second) means none holds.
    const quietFrom = await d!.watch.waitQuiet(['Watchdog'], Date.now() - 1, 10_000, 120_000);
    expect(d!.watch.seen(quietFrom, Infinity, 'firing')).toEqual(new Set(['Watchdog']));
    expect((await d!.prometheus.query('sum(patroni_primary)'))[0].value[1]).toBe('1');
    expect((await d!.prometheus.query('sum(patroni_sync_standby)'))[0].value[1]).toBe('1');
    expect((await d!.prometheus.query('sum(etcd_server_has_leader{job="datastore-etcd"})'))[0].value[1]).toBe('3');
  }, 180_000);

  test('one etcd member stopped: DatastoreEtcdMembersMissing fires (quorum holds: no QuorumLost, no NoLeader); started again, it resolves', async () => {
    const bound = scaled('DatastoreEtcdMembersMissing') + 30_000;
    const result = await stopEtcdMember(d!, bound);
    console.log(`${formatTiming(result.timing, d!.rules)}; seen: ${[...result.seen].join(', ')}`);
    expect(result.timing.firingMs).toBeGreaterThanOrEqual(scaled('DatastoreEtcdMembersMissing'));
    expect(result.timing.firingMs).toBeLessThan(bound);
    expect(result.seen.has('DatastoreEtcdQuorumLost')).toBe(false);
    expect(result.seen.has('DatastoreEtcdNoLeader')).toBe(false);
    expect([...result.firing].sort()).toEqual(['DatastoreEtcdMembersMissing', 'Watchdog']);
  }, 300_000);

  test('a Patroni failover (the primary\'s Patroni stopped): PatroniFailover fires, PatroniNoPrimary does not (the standby took over within its for); rejoined, all resolve', async () => {
    const result = await patroniFailover(d!, 120_000);
    console.log(`${formatTiming(result.timing, d!.rules)}; ${result.oldLeader} → ${result.newLeader}; seen: ${[...result.seen].join(', ')}; firing: ${[...result.firing].join(', ')}`);
    expect(result.newLeader).not.toBe(result.oldLeader);
    expect(result.timing.firingMs).toBeLessThan(120_000);
    expect(result.firing.has('PatroniFailover')).toBe(true);
    expect(result.firing.has('PatroniNoPrimary')).toBe(false);
    // The window the rule compares over, then it clears by itself.
    expect(result.timing.resolvedMs).toBeDefined();
  }, SCALED_NOTICE_MS + 600_000);

  test('no primary (Patroni stopped on both nodes): PatroniNoPrimary fires after its for; PatroniFailover fires exactly when the restart raised the timeline; restarted, it resolves', async () => {
    const bound = scaled('PatroniNoPrimary') + 30_000;
    const result = await noPrimary(d!, bound);
    console.log(`${formatTiming(result.timing, d!.rules)}; timeline ${result.timelineBefore} → ${result.timelineAfter}; seen: ${[...result.seen].join(', ')}; firing: ${[...result.firing].join(', ')}`);
    expect(result.timing.firingMs).toBeGreaterThanOrEqual(scaled('PatroniNoPrimary'));
    expect(result.timing.firingMs).toBeLessThan(bound);
    expect(result.timelineBefore).toBeDefined();
    expect(result.timelineAfter).toBeDefined();
    // Patroni starts a stopped primary read-only and promotes it when it takes the leader key: if that made a new
    // timeline, the rule (timeline rose within its window) rightly fires; otherwise it must stay silent.
    expect(result.firing.has('PatroniFailover')).toBe(result.timelineAfter! > result.timelineBefore!);
  }, SCALED_NOTICE_MS + 600_000);
});
