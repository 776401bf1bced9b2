import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describeWithTools } from '../support/tools';

// Keepalived's ExecStop (constructs/cloud-init/assets/keepalived-handover.sh) in a network namespace of its own with
// the VIP on its loopback interface: the real `ip` tells it whether this node holds the VIP. The handover itself (a peer
// taking the VIP over) runs with real Keepalived in the rolling lab (test/rolling/machine-restart.test.ts).
const SCRIPT = join(__dirname, '../../constructs/cloud-init/assets/keepalived-handover.sh');
const VIP = '198.18.9.9';

/** Runs the script in a new network namespace, with the VIP on its loopback interface when `holdsVip`. */
function handover(holdsVip: boolean, trackFile: string, waitSeconds: number) {
  const setup = holdsVip ? `ip link set lo up && ip addr add ${VIP}/32 dev lo && ` : '';
  const started = Date.now();
  const result = spawnSync('unshare', ['--net', 'sh', '-c', `${setup}exec sh "$0" "$@"`, SCRIPT, VIP, trackFile, String(waitSeconds)],
    { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}`, ms: Date.now() - started };
}

describeWithTools(['ip', 'unshare'], 'the VIP handover before Keepalived stops', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-handover-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a node without the VIP stops at once and leaves its priority alone', () => {
    const trackFile = join(dir, 'track');
    const result = handover(false, trackFile, 5);
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: '' });
    expect(() => readFileSync(trackFile)).toThrow();
    expect(result.ms).toBeLessThan(5_000);
  });

  test('the holder raises its track file; with no peer to take the VIP it waits its bound, says so, and lets the stop go on', () => {
    const trackFile = join(dir, 'track');
    const result = handover(true, trackFile, 1);
    expect(result.status).toBe(0);
    expect(readFileSync(trackFile, 'utf8')).toBe('1\n');
    expect(result.output).toContain(`no other load balancer took ${VIP} over within 1s: stopping with it`);
    expect(result.ms).toBeGreaterThanOrEqual(1_000);
    expect(result.ms).toBeLessThan(15_000);
  });

  test('a track file it cannot write never fails the stop', () => {
    const result = handover(true, join(dir, 'missing-dir', 'track'), 5);
    expect(result.status).toBe(0);
    expect(result.output).toContain('cannot write');
  });
}, { needsRoot: true });
