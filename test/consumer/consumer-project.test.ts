import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse } from 'yaml';
import { StandinHome, TerraformWorkdir, createStandinHome } from '../support/terraform-cli';
import { CommandResult, consumerEnv, createConsumerProject, packLibrary, readmeFile, run } from './consumer-project';
import { EDGE_BASELINE, edgeSiteFile } from './edge-site';

/**
 * The library as a user gets it from npm: packed, installed into a project shaped like `cdktf init
 * --template=typescript` makes one, with the README's main.ts and a site of its own (not a seed). Type-checked
 * under that project's tsconfig (module resolution node10), synthesized with `cdktf synth`, checked by Terraform
 * with the stand-in providers, then changed unsafely: `cdktf synth` must fail with the clean problem list and
 * `proxmox-k3s-ha plan` must print the change report.
 */
const STACK_FILE = 'cdktf.out/stacks/edge/cdk.tf.json';
const COMMAND_TIMEOUT_MS = 180_000;
/** A test runs up to three commands (cdktf runs tsc first); two cores shared with other suites. */
const TEST_TIMEOUT_MS = 3 * COMMAND_TIMEOUT_MS;
/** A stack frame of a Node.js stack trace. */
const STACK_FRAME = /^\s+at .+[(:]\d+/m;

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('a cdktf init project using the packed library', () => {
  let workDir: string;
  let project: string;
  let tarball: string;
  const timings: Record<string, number> = {};
  /** What `plan` printed on stderr for the unsafe change: the ids to accept. */
  let planStderr = '';
  const started = Date.now();

  /** Runs a command in the project as its user would; records how long it took. */
  function inProject(label: string, command: string, extraEnv: NodeJS.ProcessEnv = {}): CommandResult {
    const result = run(command, project, consumerEnv(project, extraEnv), COMMAND_TIMEOUT_MS);
    timings[label] = result.ms;
    return result;
  }
  const writeSite = (text: string) => writeFileSync(join(project, 'site.ts'), text);
  const stackFile = () => readFileSync(join(project, STACK_FILE), 'utf8');

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'proxmox-k3s-ha-consumer-'));
    const packStarted = Date.now();
    tarball = packLibrary(workDir);
    timings['build + npm pack'] = Date.now() - packStarted;
    project = join(workDir, 'edge');
    createConsumerProject(project, tarball);
    writeFileSync(join(project, 'main.ts'), readmeFile('main.ts').text);
    writeSite(edgeSiteFile(EDGE_BASELINE));
  }, 360_000);

  afterAll(() => {
    // Where the time goes, for the report (the whole file takes about the sum).
    console.log(`consumer project: ${Object.entries(timings).map(([label, ms]) => `${label} ${ms} ms`).join(', ')}; total ${Date.now() - started} ms`);
    if (workDir) {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  test('the package maps every subpath of "exports" in typesVersions and ships its bin with a shebang', () => {
    const installed = join(project, 'node_modules/proxmox-k3s-ha');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json').map((key) => key.slice(2));
    expect(subpaths.length).toBeGreaterThanOrEqual(7);
    for (const subpath of subpaths) {
      const mapped: string[] = manifest.typesVersions['*'][subpath] ?? [];
      const declared = manifest.exports[`./${subpath}`].types.replace(/^\.\//, '');
      expect({ subpath, mapped }).toEqual({ subpath, mapped: [declared] });
      expect({ subpath, shipped: existsSync(join(installed, declared)) }).toEqual({ subpath, shipped: true });
    }
    expect(readFileSync(join(installed, manifest.bin['proxmox-k3s-ha']), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  }, TEST_TIMEOUT_MS);

  test('the README\'s main.ts, a site and imports of every subpath type-check under cdktf init\'s tsconfig (node10 resolution)', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/proxmox-k3s-ha/package.json'), 'utf8'));
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json').map((key) => key.slice(2));
    writeFileSync(join(project, 'subpaths.ts'), [
      ...subpaths.map((subpath, i) => `import * as subpath${i} from 'proxmox-k3s-ha/${subpath}';`),
      `export const subpaths = [${subpaths.map((_, i) => `subpath${i}`).join(', ')}];`, '',
    ].join('\n'));
    // The README's example site too: it must stay a valid site.
    writeFileSync(join(project, 'readme-site.ts'), readmeFile('site.ts').text);
    const tsconfig = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions.module).toBe('CommonJS');
    expect(tsconfig.compilerOptions.moduleResolution).toBeUndefined(); // CommonJS → node10
    const typecheck = inProject('tsc --noEmit', 'npx tsc --noEmit');
    expect(`${typecheck.stdout}${typecheck.stderr}`).toBe('');
    expect(typecheck.status).toBe(0);
    const readmeSite = inProject('README site validates', `npx tsc && node -e "require('proxmox-k3s-ha').defineSite(require('./readme-site').siteSpec)"`);
    expect(readmeSite.stderr).toBe('');
    expect(readmeSite.status).toBe(0);
  }, TEST_TIMEOUT_MS);

  test('cdktf synth writes the stack and the GitOps folder with its kustomization.yaml', () => {
    const synth = inProject('cdktf synth', 'npx cdktf synth');
    expect(synth.stderr).toBe('');
    expect(synth.status).toBe(0);
    const stack = JSON.parse(stackFile());
    expect(Object.keys(stack.resource.proxmox_virtual_environment_vm ?? {})).toHaveLength(3);
    expect(Object.keys(stack.resource.proxmox_virtual_environment_container ?? {})).toHaveLength(2);
    const gitops = join(project, 'dist/k8s/edge');
    const kustomization = parse(readFileSync(join(gitops, 'kustomization.yaml'), 'utf8'));
    expect(kustomization.resources).toEqual(readdirSync(gitops).filter((file) => file.endsWith('.k8s.yaml')).sort());
    expect(kustomization.resources).toEqual(expect.arrayContaining(['DaemonSet.nginx-ingress-controller.k8s.yaml', 'HelmChart.cilium.k8s.yaml']));
  }, TEST_TIMEOUT_MS);

  describe('Terraform with the stand-in providers', () => {
    let home: StandinHome;
    let workdir: TerraformWorkdir | undefined;
    beforeAll(() => {
      home = createStandinHome();
    });
    afterAll(() => {
      workdir?.dispose();
      home?.dispose();
    });

    test('init, validate and plan the synthesized stack', async () => {
      const terraformStarted = Date.now();
      workdir = await TerraformWorkdir.create(JSON.parse(stackFile()), { home });
      await workdir.validate();
      const plan = await workdir.planJson();
      timings['terraform init + validate + plan'] = Date.now() - terraformStarted;
      const created = (plan.resource_changes as { address: string; change: { actions: string[] } }[])
        .filter((change) => change.change.actions.includes('create')).map((change) => change.address);
      expect(created).toEqual(expect.arrayContaining([
        expect.stringMatching(/^proxmox_virtual_environment_vm\./), expect.stringMatching(/^proxmox_virtual_environment_container\./),
      ]));
    }, 300_000);
  });

  test('a site mistake reaches the user of node main.js as the problem list once, without stack frames', () => {
    writeSite(edgeSiteFile({ ...EDGE_BASELINE, lastServerIp: '10.20.0.313' }));
    try {
      const result = inProject('node main.js (invalid site)', 'npx tsc && node main.js');
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('site "edge" has 1 problem:\n  - hosts[edge-cp-3].ip: "10.20.0.313" — an IPv4 address in dotted-decimal form\n');
    } finally {
      writeSite(edgeSiteFile(EDGE_BASELINE));
    }
  }, TEST_TIMEOUT_MS);

  test('a K3s downgrade with two servers removed fails cdktf synth with the clean list, and keeps the previous synthesis', () => {
    const previous = stackFile();
    writeSite(edgeSiteFile({ k3s: 'v1.35.2+k3s1', servers: 1 }));
    const synth = inProject('cdktf synth (unsafe change)', 'npx cdktf synth');
    expect(synth.status).not.toBe(0);
    const output = `${synth.stdout}${synth.stderr}`;
    expect(output).not.toMatch(STACK_FRAME);
    expect(output).not.toContain('problems: [');
    // What the app printed, as cdktf shows it under "Command output on stderr": the list, once.
    const appOutput = synth.stderr.split('Command output on stderr:')[1] ?? '';
    expect(occurrences(appOutput, 'unsafe changes against its previous synthesis')).toBe(1);
    for (const problem of [
      'edge: versions.k3s: "v1.35.2+k3s1" — a downgrade from v1.36.3+k3s1',
      'edge: hosts: edge-cp-2, edge-cp-3 — 2 servers would leave at once',
      'edge: hosts: edge-cp-2, edge-cp-3 — leaves 1 of 3 etcd members, below the quorum of 2',
      'edge: hosts: edge-cp-2 — a K3s node would leave without being decommissioned',
    ]) {
      expect({ problem, times: occurrences(appOutput, problem) }).toEqual({ problem, times: 1 });
    }
    expect(appOutput).toMatch(/PROXMOX_K3S_HA_ACCEPT_UNSAFE=[0-9a-f]{8}(,[0-9a-f]{8}){4}\n/);
    expect(stackFile()).toBe(previous);
  }, TEST_TIMEOUT_MS);

  test('proxmox-k3s-ha plan prints the change report, exits 1 and writes nothing', () => {
    const before = stackFile();
    const gitops = readdirSync(join(project, 'dist/k8s/edge')).sort();
    const kustomizationWritten = statSync(join(project, 'dist/k8s/edge/kustomization.yaml')).mtimeMs;
    const plan = inProject('proxmox-k3s-ha plan', 'npx proxmox-k3s-ha plan');
    planStderr = plan.stderr;
    expect(plan.status).toBe(1);
    expect(plan.stdout).toContain('site edge\n');
    expect(plan.stdout).toMatch(/^ {2}edge-cp-2: removed$/m);
    expect(plan.stdout).toMatch(/^ {2}edge-cp-1: converge in place: .*\/etc\/rancher\/k3s\/config\.yaml.* → k3s restart$/m);
    expect(plan.stdout).toMatch(/^ {2}rollout order: edge-lb-2 → edge-lb-1 → edge-cp-1$/m);
    expect(plan.stdout).toMatch(/^ {2}UNSAFE: edge: versions\.k3s: "v1\.35\.2\+k3s1" — a downgrade/m);
    expect(plan.stderr).toMatch(/^5 unsafe changes; change the site, or accept them explicitly: PROXMOX_K3S_HA_ACCEPT_UNSAFE=/m);
    expect(stackFile()).toBe(before);
    expect(readdirSync(join(project, 'dist/k8s/edge')).sort()).toEqual(gitops);
    expect(statSync(join(project, 'dist/k8s/edge/kustomization.yaml')).mtimeMs).toBe(kustomizationWritten);
    const usage = inProject('proxmox-k3s-ha plan --bogus', 'npx proxmox-k3s-ha plan --bogus');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^proxmox-k3s-ha plan: --bogus: expected one of --baseline, --app\nusage: proxmox-k3s-ha plan \[--baseline <dir>\] \[--app "<command>"\]/);
  }, TEST_TIMEOUT_MS);

  test('the ids plan printed accept those changes: cdktf synth then writes the new synthesis, with a warning', () => {
    // (One id short accepts nothing: test/consumer/synth-guard.test.ts.)
    const ids = /PROXMOX_K3S_HA_ACCEPT_UNSAFE=([0-9a-f,]+)/.exec(planStderr)![1];
    const accepted = inProject('cdktf synth (accepted)', 'npx cdktf synth', { PROXMOX_K3S_HA_ACCEPT_UNSAFE: ids });
    expect(accepted.status).toBe(0);
    expect(`${accepted.stdout}${accepted.stderr}`).toContain('unsafe change accepted by PROXMOX_K3S_HA_ACCEPT_UNSAFE');
    expect(Object.keys(JSON.parse(stackFile()).resource.proxmox_virtual_environment_vm)).toHaveLength(1);
  }, TEST_TIMEOUT_MS);
});
