import { KEEPALIVED_SCRIPT_USER } from '../../../constructs/renderers';
import { ensureSystemUser } from '../../support/netns';
import { describeWithTools } from '../../support/tools';
import { FAILOVER_TOOLS, FailoverAlertLab, killHolderHaproxy, startFailoverAlertLab, stopHolderKeepalived, vrrpMasters } from './failover-alerts';
import { FOR_SCALE, LAB_INTERVAL_SECONDS, formatTiming } from './lab-prometheus';

/**
 * Real scrape, real fault in the failover lab: a real Prometheus scrapes the real HAProxies, node_exporters and
 * Keepalived's VRRP state, evaluates the generated rules (each `for` divided by FOR_SCALE, printed), and the faults of
 * the failover lab make the alerts fire and resolve. Needs root; skipped naming the missing tool otherwise.
 */
describeWithTools(FAILOVER_TOOLS, 'alerts in the failover lab (real Prometheus, HAProxy, Keepalived, node_exporter)', () => {
  let lab: FailoverAlertLab | undefined;
  let removeUser: () => void = () => undefined;
  const scaled = (alert: string) => lab!.rules.find((r) => r.alert === alert)!.scaledForSeconds * 1000;
  /** Generous: the scaled `for`, plus 20 s of detection and load (other labs run on the same 2 cores). */
  const firingBound = (alert: string) => scaled(alert) + 20_000;

  beforeAll(async () => {
    removeUser = ensureSystemUser(KEEPALIVED_SCRIPT_USER);
    lab = await startFailoverAlertLab();
    console.log(`alert lab: every for ÷ ${FOR_SCALE}, scrape and evaluation every ${LAB_INTERVAL_SECONDS}s: ${lab.rules.map((r) => `${r.alert} ${r.scaledForSeconds}s`).join(', ')}`);
  }, 150_000);

  afterAll(async () => {
    await lab?.watch.stop();
    lab?.topology.lab.stop();
    removeUser();
  }, 30_000);

  test('healthy lab: every generated target up, the VRRP state names one holder, and no alert but the Watchdog', async () => {
    expect(await lab!.prometheus.upInstances('haproxy')).toEqual(['lb-1', 'lb-2', 'lb-3']);
    expect(await lab!.prometheus.upInstances('node')).toEqual(['api-1', 'api-2', 'api-3', 'lb-1', 'lb-2', 'lb-3']);
    // The longest scaled `for` of a rule whose data the lab has, so any of them would have fired in the window.
    const windowMs = Math.max(scaled('LoadBalancersDown'), scaled('VipHasNoHolder'), scaled('VipHasTwoHolders')) + 3_000;
    const quietFrom = await lab!.watch.waitQuiet(['Watchdog'], Date.now() - 1, windowMs, windowMs + 60_000);
    expect(lab!.watch.seen(quietFrom, Infinity, 'firing')).toEqual(new Set(['Watchdog']));
    expect(await vrrpMasters(lab!)).toEqual(['lb-1']);
  }, 150_000);

  test('the VIP holder\'s HAProxy killed: LoadBalancersDown fires (and nothing about the VIP); restarted, it resolves', async () => {
    const { timing, firing, mastersDuringFault } = await killHolderHaproxy(lab!, firingBound('LoadBalancersDown'));
    console.log(formatTiming(timing, lab!.rules));
    expect(timing.firingMs).toBeGreaterThanOrEqual(scaled('LoadBalancersDown'));
    expect(timing.firingMs).toBeLessThan(firingBound('LoadBalancersDown'));
    expect(timing.resolvedMs).toBeDefined();
    // Keepalived's track script moved the VIP: one holder by the metric, no VIP alert.
    expect(mastersDuringFault).toHaveLength(1);
    expect(mastersDuringFault[0]).not.toBe('lb-1');
    expect([...firing].sort()).toEqual(['LoadBalancersDown', 'Watchdog']);
  }, 180_000);

  test('the VIP holder\'s Keepalived stopped: the backup takes over, so neither VIP alert fires; restarted, the VIP comes back', async () => {
    const holdMs = Math.max(scaled('VipHasNoHolder'), scaled('VipHasTwoHolders')) + 8_000;
    const result = await stopHolderKeepalived(lab!, 'SIGTERM', holdMs);
    console.log(`keepalived stopped ${result.holdMs} ms: VRRP masters by the metric ${result.masters.join(', ')}; alerts seen ${[...result.seen].join(', ')}`);
    expect(result.masters).toHaveLength(1);
    expect(result.masters[0]).not.toBe('lb-1');
    expect(result.firing.has('VipHasNoHolder')).toBe(false);
    expect(result.firing.has('VipHasTwoHolders')).toBe(false);
    expect([...result.firing]).toEqual(['Watchdog']);
  }, 180_000);

  test('the VIP holder\'s Keepalived killed (no notify script runs): its stale MASTER state next to the new holder fires VipHasTwoHolders, as its description says', async () => {
    const result = await stopHolderKeepalived(lab!, 'SIGKILL', firingBound('VipHasTwoHolders'));
    console.log(formatTiming(result.timing!, lab!.rules));
    expect(result.masters).toContain('lb-1');
    expect(result.masters.length).toBe(2);
    expect(result.timing!.firingMs).toBeGreaterThanOrEqual(scaled('VipHasTwoHolders'));
    expect(result.firing.has('VipHasNoHolder')).toBe(false);
  }, 180_000);
});
