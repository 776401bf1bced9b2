import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { stringify } from 'yaml';
import { defineSite } from '../../../constructs';
import { renderAlertmanagerConfig } from '../../../constructs/monitoring/alertmanager-config';
import { MonitoringReceiverKind, MonitoringReceiverSpec } from '../../../constructs/site/spec';
import lab from '../../../sites/lab';
import { describeWithTools } from '../../support/tools';

/** `amtool check-config` on a config; its output on failure. */
function amtoolCheck(config: Record<string, unknown>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-amtool-'));
  try {
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
    const run = spawnSync('amtool', ['check-config', join(dir, 'alertmanager.yml')], { encoding: 'utf8', timeout: 30_000 });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const configOf = (receiver?: MonitoringReceiverSpec) => renderAlertmanagerConfig(defineSite({ ...lab, monitoring: receiver ? { receiver } : {} }));

describeWithTools(['amtool'], 'Alertmanager configuration checked by amtool', () => {
  test.each([
    ['no receiver', undefined],
    ['email', { kind: MonitoringReceiverKind.EMAIL, to: 'ops@example.net', from: 'lab@example.net', smarthost: 'smtp.example.net:587', username: 'lab', passwordSecret: { name: 'smtp', key: 'password' } }],
    ['ntfy', { kind: MonitoringReceiverKind.NTFY, serverUrl: 'https://ntfy.example.net', topic: 'lab-alerts', tokenSecret: { name: 'ntfy', key: 'token' } }],
  ] as const)('%s: amtool check-config passes', (_name, receiver) => {
    const result = amtoolCheck(configOf(receiver as MonitoringReceiverSpec | undefined));
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  test('webhook: valid with the URL in place of url_file (Debian\'s amtool 0.25 predates url_file; the chart runs Alertmanager 0.34)', () => {
    // url_file for webhooks came after v0.25.0 (cortexproject/cortex#5276 names the commit that added it).
    const config = configOf({ kind: MonitoringReceiverKind.WEBHOOK, urlSecret: { name: 'alert-webhook', key: 'url' } });
    const text = JSON.stringify(config);
    expect(text).toContain('"url_file":"/etc/alertmanager/secrets/alert-webhook/url"');
    const asUrl = JSON.parse(text.replace(/"url_file":"[^"]+"/, '"url":"https://hooks.example.net/alert"'));
    expect(amtoolCheck(asUrl).status).toBe(0);
  });

  test('amtool rejects a receiver the route does not define (the check can fail)', () => {
    const config = configOf() as { route: Record<string, unknown> };
    expect(amtoolCheck({ ...config, route: { ...config.route, receiver: 'nowhere' } }).status).not.toBe(0);
  });
});
