import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { defineSite } from '../../constructs';
import { renderKubeadmJoinScript, renderWaitForApiScript, renderWaitLoop } from '../../constructs/renderers';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import lab from '../../sites/lab';

/** Runs a wait loop for real with sh; returns its status, stderr and how long it took. */
function runLoop(loop: string): { status: number | null; stderr: string; seconds: number } {
  const started = Date.now();
  const result = spawnSync('sh', ['-c', `set -eu\n${loop}\necho done`], { encoding: 'utf8', timeout: 60_000 });
  if (result.status === 0) {
    expect(result.stdout).toBe('done\n');
  }
  return { status: result.status, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
}

describe('renderWaitLoop: bounded by elapsed time, not by a count of tries', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-wait-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('slow failing tries do not stretch the wait: it gives up at the deadline and says what it waited for', () => {
    // Each try takes 2 s and fails; a try-counting loop of 3 tries x (2 s + 1 s) would take 9 s.
    const loop = renderWaitLoop({ condition: 'sleep 2; false', description: "the stand-in's answer", timeoutSeconds: 3, intervalSeconds: 1 });
    const result = runLoop(loop);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe("gave up waiting for the stand-in's answer after 3 s\n");
    expect(result.seconds).toBeGreaterThanOrEqual(3);
    // Deadline plus at most one try and one pause past it.
    expect(result.seconds).toBeLessThan(3 + 2 + 1 + 2);
  });

  test('stops waiting as soon as the condition holds', () => {
    const marker = join(dir, 'ready');
    const loop = renderWaitLoop({ condition: `[ -e '${marker}' ]`, description: 'the marker', timeoutSeconds: 30, intervalSeconds: 1 });
    const result = runLoop(`( sleep 1.5; : > '${marker}' ) &\n${loop}`);
    expect(result.status).toBe(0);
    expect(existsSync(marker)).toBe(true);
    expect(result.seconds).toBeLessThan(15);
  });

  test('rejects a timeout that is not a positive whole number of seconds', () => {
    expect(() => renderWaitLoop({ condition: 'true', description: 'x', timeoutSeconds: 0 })).toThrow('timeoutSeconds 0 — expected a whole number of seconds, at least 1');
  });
});

describe('the join waits use controlPlane.joinApiWaitMinutes', () => {
  test('K3s: 30 minutes by default, the site\'s setting otherwise', () => {
    expect(renderWaitForApiScript(defineSite(lab))).toContain('wait_deadline=$((wait_started + 1800))');
    expect(renderWaitForApiScript(defineSite({ ...lab, controlPlane: { ...lab.controlPlane, joinApiWaitMinutes: 90 } })))
      .toContain('wait_deadline=$((wait_started + 5400))');
  });

  test('kubeadm joins wait the same setting', () => {
    const site = defineSite({ ...kubeadmStacked, controlPlane: { ...kubeadmStacked.controlPlane, joinApiWaitMinutes: 5 } });
    expect(renderKubeadmJoinScript(site, 'controlplane2')).toContain('wait_deadline=$((wait_started + 300))');
  });

  test('a wait that is not 1 to 1440 whole minutes is rejected, naming the field', () => {
    expect(() => defineSite({ ...lab, controlPlane: { ...lab.controlPlane, joinApiWaitMinutes: 0.5 } }))
      .toThrow('controlPlane.joinApiWaitMinutes: 0.5 — a whole number of minutes from 1 to 1440');
  });
});

describeWithTools(['shellcheck'], 'shellcheck accepts the wait loop', () => {
  test('as rendered into a script', () => {
    const result = shellcheck(`#!/bin/sh\nset -eu\n${renderWaitLoop({ condition: 'curl -ksf --max-time 5 https://198.18.0.1:6443/ping | grep -q pong', description: 'x', timeoutSeconds: 60 })}\n`);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });
});
