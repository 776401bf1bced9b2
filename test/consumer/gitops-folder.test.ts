import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { TlsCertificateSource, defineSite, synthGitOpsFolders, writeGitOpsFolder } from '../../constructs';
import prod from '../../sites/prod';

/** The documented helper a library user calls to write a site's GitOps folder. */
describe('writeGitOpsFolder', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), 'pkh-gitops-'));
  });
  afterEach(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  test('writes <outdir>/<site>/ with one file per object and a kustomization.yaml listing exactly them', () => {
    const folder = writeGitOpsFolder(defineSite(prod), { outdir });
    expect(folder.dir).toBe(join(outdir, 'prod'));
    const manifests = readdirSync(folder.dir).filter((file) => file !== 'kustomization.yaml').sort();
    expect(folder.files).toEqual(manifests);
    expect(manifests).toEqual(expect.arrayContaining(['DaemonSet.nginx-ingress-controller.k8s.yaml', 'Certificate.nginx-demo-tls.k8s.yaml']));
    expect(parse(readFileSync(join(folder.dir, 'kustomization.yaml'), 'utf8'))).toEqual({
      apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: manifests,
    });
  });

  test('empties the folder first (a removed object leaves no file) and passes the chart options on', () => {
    writeGitOpsFolder(defineSite(prod), { outdir });
    writeFileSync(join(outdir, 'prod', 'Deployment.removed.k8s.yaml'), 'kind: Deployment\n');
    const folder = writeGitOpsFolder(defineSite(prod), { outdir, chart: { tlsCertificateSource: TlsCertificateSource.EXISTING_SECRET } });
    expect(existsSync(join(folder.dir, 'Deployment.removed.k8s.yaml'))).toBe(false);
    expect(folder.files.filter((file) => file.startsWith('Certificate.') || file.startsWith('Issuer.'))).toEqual([]);
  });

  test('CDK8S_OUTDIR is the default output folder (the plan command points it elsewhere)', () => {
    const saved = process.env.CDK8S_OUTDIR;
    process.env.CDK8S_OUTDIR = outdir;
    try {
      expect(writeGitOpsFolder(defineSite(prod)).dir).toBe(join(outdir, 'prod'));
    } finally {
      if (saved === undefined) {
        delete process.env.CDK8S_OUTDIR;
      } else {
        process.env.CDK8S_OUTDIR = saved;
      }
    }
  });

  test('synthGitOpsFolders wants one folder per chart and one file per object', () => {
    expect(() => synthGitOpsFolders(new App({ outdir }))).toThrow('App.yamlOutputType: FILE_PER_CHART — expected FOLDER_PER_CHART_FILE_PER_RESOURCE');
  });
});
