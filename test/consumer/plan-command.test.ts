import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { plan } from '../../constructs/cli/plan';
import { SiteSpec, SiteStack, defineSite, k3sServerManifests } from '../../constructs';
import homelab from '../../sites/homelab';
import prod from '../../sites/prod';

/**
 * `proxmox-k3s-ha plan` on a project whose app is a stand-in: it copies a synthesis made here (real cdktf) into
 * CDKTF_OUTDIR, so these cases need no TypeScript compile; the consumer-project test runs the real app.
 */
describe('the plan command', () => {
  let dir: string;
  let project: string;
  let out: string;
  let err: string;

  function synthInto(outdir: string, ...specs: SiteSpec[]): void {
    const app = new App({ outdir });
    for (const spec of specs) {
      const site = defineSite(spec);
      new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
    }
    app.synth();
  }
  /** An app command that "synthesizes" the prepared folder `name`. */
  const copyApp = (name: string) => `mkdir -p "$CDKTF_OUTDIR" && cp -R ${JSON.stringify(join(dir, name))}/. "$CDKTF_OUTDIR"/`;
  function runPlan(options: { app?: string; baseline?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): number {
    out = '';
    err = '';
    return plan({
      projectDir: project, app: options.app, baseline: options.baseline, env: { PATH: process.env.PATH, ...options.env }, timeoutMs: options.timeoutMs ?? 60_000,
      out: (text) => { out += `${text}\n`; }, err: (text) => { err += `${text}\n`; },
    });
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-plan-'));
    synthInto(join(dir, 'deployed'), prod, homelab);
    synthInto(join(dir, 'downgraded'), { ...prod, versions: { ...prod.versions, k3s: 'v1.35.2+k3s1' } });
    synthInto(join(dir, 'patched'), { ...prod, versions: { ...prod.versions, k3s: 'v1.36.4+k3s1' } });
    project = join(dir, 'project');
    cpSync(join(dir, 'deployed'), join(project, 'cdktf.out'), { recursive: true });
    writeFileSync(join(project, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: copyApp('downgraded') }));
  }, 120_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('runs cdktf.json\'s app, compares with its output folder, prints the report and the ids; exit 1; writes nothing', () => {
    const before = readFileSync(join(project, 'cdktf.out/stacks/prod/cdk.tf.json'), 'utf8');
    expect(runPlan()).toBe(1);
    expect(out).toMatch(/^site prod\n {2}k3s-prod-cp-01: converge in place: .*→ k3s restart\n/);
    expect(out).toMatch(/^ {2}UNSAFE: prod: versions\.k3s: "v1\.35\.2\+k3s1" — a downgrade/m);
    expect(out).toContain('stack homelab: in the previous synthesis, no longer in the app');
    expect(out).toMatch(/compared with .*cdktf\.out: nothing was written\n$/);
    expect(err).toMatch(/^1 unsafe change; change the site, or accept them explicitly: PROXMOX_K3S_HA_ACCEPT_UNSAFE=([0-9a-f]{8})\n {2}\[\1\] prod: versions\.k3s: "v1\.35\.2\+k3s1"\n$/);
    expect(readFileSync(join(project, 'cdktf.out/stacks/prod/cdk.tf.json'), 'utf8')).toBe(before);
  });

  test('exit 0 for a safe change, and for an unsafe one accepted by its id', () => {
    expect(runPlan({ app: copyApp('patched') })).toBe(0);
    expect(err).toBe('');
    runPlan();
    const id = /PROXMOX_K3S_HA_ACCEPT_UNSAFE=([0-9a-f]{8})/.exec(err)![1];
    expect(runPlan({ env: { PROXMOX_K3S_HA_ACCEPT_UNSAFE: id } })).toBe(0);
    expect(err).toContain(`accepted by PROXMOX_K3S_HA_ACCEPT_UNSAFE: [${id}]`);
  });

  test('--baseline wins over PROXMOX_K3S_HA_BASELINE, which wins over cdktf.json\'s output; the app never sees it', () => {
    const seen = join(project, 'seen-baseline.txt');
    const app = `${copyApp('downgraded')} && echo "baseline=$PROXMOX_K3S_HA_BASELINE k8s=$CDK8S_OUTDIR" > ${JSON.stringify(seen)}`;
    expect(runPlan({ app, env: { PROXMOX_K3S_HA_BASELINE: join(dir, 'downgraded') } })).toBe(0);
    expect(out).toContain(`compared with ${join(dir, 'downgraded')}: nothing was written`);
    expect(readFileSync(seen, 'utf8')).toMatch(/^baseline= k8s=.*proxmox-k3s-ha-plan-.*\/k8s\n$/);
    expect(runPlan({ app, baseline: join(dir, 'patched'), env: { PROXMOX_K3S_HA_BASELINE: join(dir, 'downgraded') } })).toBe(1);
    expect(out).toContain(`compared with ${join(dir, 'patched')}: nothing was written`);
  });

  test('usage errors and failing apps are named, and nothing is compared', () => {
    expect(runPlan({ baseline: join(dir, 'no-such-folder') })).toBe(2);
    expect(err).toBe(`plan: --baseline: ${JSON.stringify(join(dir, 'no-such-folder'))} — the folder of a previous synthesis (a cdktf output folder with stacks/<stack>/cdk.tf.json), e.g. cdktf.out\n`);
    expect(runPlan({ app: 'exit 3' })).toBe(1);
    expect(err).toBe('plan: the app "exit 3" failed (exit 3): nothing was compared\n');
    expect(runPlan({ app: 'true' })).toBe(1);
    expect(err).toContain('plan: the app "true" wrote no manifest.json into CDKTF_OUTDIR');
    expect(runPlan({ app: 'sleep 5', timeoutMs: 300 })).toBe(1);
    expect(err).toBe('plan: the app "sleep 5" was stopped (SIGKILL, after 0.3 s): nothing was compared\n');
    expect(out).toBe('');
    const bare = mkdtempSync(join(tmpdir(), 'pkh-plan-bare-'));
    try {
      expect(plan({ projectDir: bare, env: {}, timeoutMs: 1000, out: () => undefined, err: (text) => { err = text; } })).toBe(2);
      expect(err).toBe(`plan: --app: (missing) — expected the app command, or a cdktf.json with "app" in ${bare}`);
      expect(existsSync(join(bare, 'cdktf.out'))).toBe(false);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
