import fc from 'fast-check';
import { SiteSpec, ValidationError, defineSite } from '../../constructs';
import { k3sEtcdS3Config, kubeadmEtcdBackupSettings, renderBackupSection, renderEtcdBackupUnits, renderKubeadmEtcdBackupEnv, renderRcloneConfig } from '../../constructs/renderers/etcd-backup';
import kubeadmStacked from '../../sites/kubeadm-stacked';
import { vmSite } from '../fixtures/sites';

/**
 * Backup sections built from plausible and hostile values: each is either refused with problems under `backup`
 * (path, value, expectation), or accepted and then renders without an error — no accepted value can break a file.
 */
const hostile = fc.oneof(fc.constantFrom('', ' ', "a'b", 'a\nb', '${var.x}', '../x', 'a/b', '/a', 'a//b', 'UPPER', 'x'.repeat(70)), fc.string({ maxLength: 12 }));
/** Mostly one of the good values, sometimes a bad or hostile one: most sections have one problem or none. */
const field = (good: readonly unknown[], bad: readonly unknown[] = []) => fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 12 }, { arbitrary: fc.oneof(hostile, ...(bad.length ? [fc.constantFrom(...bad)] : [])), weight: 1 });
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });
const target = fc.record({
  endpoint: field(['https://s3.example.test', 'http://10.0.0.5:9000', 'https://s3.example.test:9000/'], ['ftp://x', 'https://user:pw@s3.example.test', 'https://s3.example.test/path']),
  bucket: field(['site-backups', 'a.b-c', 'abc'], ['Site', '-ab', 'a..b']),
  region: maybe(field(['us-east-1', 'garage'], ['eu west'])),
  prefix: maybe(field(['dc1/k8s', 'a.b_c-d', 'site'], ['./x', 'a/../b'])),
  pathStyle: maybe(field([true, false], ['yes'])),
}, { requiredKeys: ['endpoint', 'bucket'] });
const etcd = maybe(fc.record({
  retention: maybe(field([1, 5, 1000], [0, 1001, 2.5])),
  calendar: maybe(field(['daily', '*-*-* 00/6:00:00', 'Mon..Fri *-*-* 02:30'], ['25:00', '0 */6 * * *', '*-*-* 02:30; reboot'])),
}));

test('a backup section is refused under backup.*, or accepted and renders', () => {
  const seen = { accepted: 0, refused: 0 };
  fc.assert(fc.property(fc.boolean(), target, etcd, (kubeadm, backupTarget, backupEtcd) => {
    const spec = { ...(kubeadm ? kubeadmStacked : vmSite), backup: { target: backupTarget, ...(backupEtcd ? { etcd: backupEtcd } : {}) } } as SiteSpec;
    let plan;
    try {
      plan = defineSite(spec);
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      for (const problem of (error as ValidationError).problems) {
        expect(problem.path).toMatch(/^backup(\.|$)/);
        expect(problem.expected.length).toBeGreaterThan(0);
      }
      seen.refused++;
      return;
    }
    const credentials = { accessKey: '${var.backup_s3_access_key}', secretKey: '${var.backup_s3_secret_key}' };
    renderBackupSection(plan);
    if (kubeadm) {
      const control = plan.hosts.find((host) => host.roles.includes('control-plane' as never))!;
      // Every line one shell assignment of a single-quoted value, and rclone's one `key = value` without spaces.
      const env = renderKubeadmEtcdBackupEnv(kubeadmEtcdBackupSettings(plan, control.name, '/var/lib/prometheus/node-exporter')).split('\n').filter((l) => l && !l.startsWith('#'));
      expect(env.filter((line) => !/^[A-Z_]+='[^'\n]*'$/.test(line))).toEqual([]);
      const rclone = renderRcloneConfig(plan.backup!, credentials).split('\n').filter((l) => l && !l.startsWith('#'));
      expect(rclone.filter((line) => !/^(\[site-backup\]|[a-z_]+ = \S+)$/.test(line))).toEqual([]);
      expect(renderEtcdBackupUnits(plan.backup!).timer).toContain(`OnCalendar=${plan.backup!.etcd.calendar}\n`);
    } else {
      const config = k3sEtcdS3Config(plan);
      expect(Object.values(config).every((value) => typeof value !== 'string' || !/[\s'"$]/.test(value))).toBe(true);
    }
    seen.accepted++;
  }), { numRuns: 300, seed: 19 });
  // Both outcomes occur, so both branches were checked.
  expect(seen.accepted).toBeGreaterThan(10);
  expect(seen.refused).toBeGreaterThan(10);
});
