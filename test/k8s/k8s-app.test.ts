import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ApiObject, Testing } from 'cdk8s';
import { parseAllDocuments, parse } from 'yaml';
import { SiteChart, defineSite } from '../../constructs';
import { chartManifestFileNames, manifestFileName, renderKustomization } from '../../constructs/k8s';
import lab from '../../sites/lab';
import { loadSites } from '../../sites';
import { isNamespacedKind } from '../support/k8s-schema';
import { testChart } from './manifests';

describe('manifestFileName', () => {
  test('is cdk8s\'s <Kind>.<name>.k8s.yaml without unsafe characters', () => {
    expect(manifestFileName({ kind: 'DaemonSet', metadata: { name: 'nginx-ingress-controller' } })).toBe('DaemonSet.nginx-ingress-controller.k8s.yaml');
    expect(manifestFileName({ kind: 'ClusterRole', metadata: { name: 'system:metrics/reader' } })).toBe('ClusterRole.systemmetricsreader.k8s.yaml');
  });
});

describe('renderKustomization', () => {
  test('lists the resources sorted', () => {
    expect(renderKustomization(['b.k8s.yaml', 'a.k8s.yaml'])).toBe([
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      '  - a.k8s.yaml',
      '  - b.k8s.yaml',
      '',
    ].join('\n'));
  });
});

describe('chartManifestFileNames', () => {
  test('one sorted file name per object of the lab chart', () => {
    const chart = new SiteChart(Testing.app(), 'lab', { site: defineSite(lab) });
    const names = chartManifestFileNames(chart);
    expect(names).toHaveLength(Testing.synth(chart).length);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('HelmChart.cilium.k8s.yaml');
  });

  test('fails when two objects would share a file (same kind and name in two namespaces)', () => {
    const chart = testChart();
    new ApiObject(chart, 'A', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'a' } });
    new ApiObject(chart, 'B', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'b' } });
    expect(() => chartManifestFileNames(chart)).toThrow(
      'chart test: ConfigMap.settings.k8s.yaml — written by ConfigMap a/settings and ConfigMap b/settings — expected one object per file name');
  });
});

describe('k8s app (k8s/main.ts)', () => {
  let outdir: string;
  const environment = { ...process.env };

  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), 'pkh-k8s-app-'));
  });
  afterEach(() => {
    rmSync(outdir, { recursive: true, force: true });
    process.env = { ...environment };
    process.exitCode = undefined;
    jest.restoreAllMocks();
  });

  /** Runs the app in-process (it synthesizes on import) into `outdir`; returns what it printed as errors. */
  function runApp(): string {
    process.env = { ...environment, CDK8S_OUTDIR: outdir };
    delete process.env.SITE;
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    jest.isolateModules(() => {
      require('../../k8s/main');
    });
    return errors.mock.calls.map((call) => call.join(' ')).join('\n');
  }

  test('writes one folder per site: one object per file and a kustomization.yaml listing exactly those files', () => {
    expect(runApp()).toBe('');
    expect(process.exitCode).toBeUndefined();
    expect(readdirSync(outdir).sort()).toEqual(loadSites().map((site) => site.name).sort());
    for (const site of loadSites()) {
      const dir = join(outdir, site.name);
      const files = readdirSync(dir).filter((file) => file !== 'kustomization.yaml').sort();
      expect(parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))).toEqual({
        apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files,
      });
      for (const file of files) {
        const documents = parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => document.toJS());
        expect(documents).toHaveLength(1);
        expect(manifestFileName(documents[0])).toBe(file);
        expect(typeof documents[0].metadata.namespace === 'string').toBe(isNamespacedKind(documents[0]));
      }
    }
    expect(readdirSync(join(outdir, 'lab'))).toEqual(expect.arrayContaining([
      'kustomization.yaml', 'HelmChart.cilium.k8s.yaml', 'DaemonSet.nginx-ingress-controller.k8s.yaml', 'IngressClass.nginx.k8s.yaml', 'Ingress.nginx-demo.k8s.yaml',
    ]));
  });

  test('is deterministic, and removes files of objects that no longer exist', () => {
    runApp();
    const read = (): Record<string, string> => Object.fromEntries(readdirSync(join(outdir, 'lab')).map((file) => [file, readFileSync(join(outdir, 'lab', file), 'utf8')]));
    const first = read();
    mkdirSync(join(outdir, 'lab'), { recursive: true });
    writeFileSync(join(outdir, 'lab', 'Deployment.removed.k8s.yaml'), 'kind: Deployment\n');
    runApp();
    expect(read()).toEqual(first);
  });
});
