import { execFileSync } from 'child_process';
import { resolve } from 'path';
import * as root from '../../constructs';

/**
 * The root entry point is the semver surface: the site model, the constructs and CloudConfig. Paths on the hosts,
 * renderers and roles live on subpaths, so changing one is not a breaking change of the package.
 */
describe('the public surface', () => {
  // Type-only names compile to undefined bindings under ts-jest: only values count.
  const names = Object.entries(root).filter(([, value]) => value !== undefined).map(([name]) => name);

  test('the root exports the site model, the constructs and CloudConfig', () => {
    for (const name of ['defineSite', 'defineSites', 'HostRole', 'ValidationError', 'CloudConfig', 'SiteStack', 'HaLoadBalancerPair', 'PostgresDatastore',
      'K3sControlPlane', 'CiliumCni', 'NginxIngressDaemonSet', 'SiteChart', 'k3sServerManifests', 'proxmox']) {
      expect({ name, exported: names.includes(name) }).toEqual({ name, exported: true });
    }
  });

  test('the root exports no file path on the hosts and no renderer', () => {
    expect(names.filter((name) => /_(PATH|FILE|DIR|SCRIPT)$/.test(name))).toEqual([]);
    expect(names.filter((name) => /^render/.test(name))).toEqual([]);
    expect(names.length).toBeLessThan(60);
  });

  test('every subpath in package.json resolves from the built package by its name (self-reference through "exports")', () => {
    const pkg = require('../../package.json');
    const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
    expect(subpaths).toEqual(expect.arrayContaining(['.', './site', './core', './cloud-init', './roles', './renderers', './tf', './k8s']));
    const script = `for (const sub of ${JSON.stringify(subpaths)}) { const m = require(sub === '.' ? '${pkg.name}' : '${pkg.name}/' + sub.slice(2)); if (Object.keys(m).length === 0) throw new Error(sub + ' is empty'); }
      const r = require('${pkg.name}/renderers'); if (typeof r.renderHaproxyConfig !== 'function') throw new Error('renderers lack renderHaproxyConfig');
      const c = require('${pkg.name}/cloud-init'); if (typeof c.CONFIGURE_SCRIPT_PATH !== 'string') throw new Error('cloud-init lacks CONFIGURE_SCRIPT_PATH');
      console.log('ok');`;
    expect(execFileSync(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' }).trim()).toBe('ok');
  });
});
