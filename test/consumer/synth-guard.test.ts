import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { SiteSpec, SiteStack, UnsafeChangeError, defineSite, k3sServerManifests, runApp } from '../../constructs';
import { ACCEPT_UNSAFE_ENV, BASELINE_ENV, unsafeChangeId } from '../../constructs/core';
import prod from '../../sites/prod';

/**
 * The unsafe-change check `SiteStack` attaches to `app.synth()`: against the previous synthesis in the app's output
 * folder (what `cdktf synth` leaves), or the folder PROXMOX_K3S_HA_BASELINE names; accepted only by id.
 */
const PROD_SERVERS = ['k3s-prod-cp-01', 'k3s-prod-cp-02', 'k3s-prod-cp-03'];
const downgraded: SiteSpec = { ...prod, versions: { ...prod.versions, k3s: 'v1.35.2+k3s1' } };
const twoServersRemoved: SiteSpec = { ...prod, hosts: prod.hosts.filter((host) => !PROD_SERVERS.slice(1).includes(host.name)) };

describe('the synth guard', () => {
  let outdir: string;
  const savedEnv = { ...process.env };

  /** Synthesizes `spec` as a cdktf app does, into `dir`. */
  function synth(spec: SiteSpec, dir = outdir): void {
    const site = defineSite(spec);
    const app = new App({ outdir: dir });
    new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
    app.synth();
  }
  const stackFile = (dir = outdir) => readFileSync(join(dir, 'stacks/prod/cdk.tf.json'), 'utf8');
  const warnings = (dir = outdir): string[] => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).stacks.prod.annotations
    .filter((annotation: { level: string }) => annotation.level === '@cdktf/warn').map((annotation: { message: string }) => annotation.message);
  function unsafeChangeOf(spec: SiteSpec): UnsafeChangeError {
    try {
      synth(spec);
    } catch (error) {
      if (error instanceof UnsafeChangeError) {
        return error;
      }
      throw error;
    }
    throw new Error('expected an UnsafeChangeError');
  }

  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), 'pkh-synth-guard-'));
    delete process.env[BASELINE_ENV];
    delete process.env[ACCEPT_UNSAFE_ENV];
    synth(prod);
  });
  afterEach(() => {
    process.env = { ...savedEnv };
    rmSync(outdir, { recursive: true, force: true });
  });

  test('a machine change that replaces running servers fails app.synth(), one problem per host; a resize, restarted in the rollout, synthesizes', () => {
    const previous = stackFile();
    const moved: SiteSpec = { ...prod, hosts: prod.hosts.map((host) => (PROD_SERVERS.includes(host.name) ? { ...host, vmId: host.vmId + 1000 } : host)) };
    const error = unsafeChangeOf(moved);
    expect(error.problems).toEqual(expect.arrayContaining(PROD_SERVERS.map((host) => expect.stringMatching(new RegExp(`^prod: hosts\\[${host}\\]: vm_id — the machine is replaced \\(replace\\)`)))));
    expect(stackFile()).toBe(previous);
    const resized: SiteSpec = { ...prod, hosts: prod.hosts.map((host) => (PROD_SERVERS.includes(host.name) ? { ...host, size: { ...host.size, memoryMiB: 16384 } } : host)) };
    expect(() => synth(resized)).not.toThrow();
    expect(stackFile()).not.toBe(previous);
  });

  test('a K3s downgrade fails app.synth() with the problem, its id and how to accept it; the previous file stays', () => {
    const previous = stackFile();
    const error = unsafeChangeOf(downgraded);
    expect(error.problems).toEqual([expect.stringMatching(/^prod: versions\.k3s: "v1\.35\.2\+k3s1" — a downgrade from v1\.\d+\.\d+\+k3s1/)]);
    const id = unsafeChangeId(error.problems[0]);
    expect(error.message).toBe([
      `stack prod: 1 unsafe change against its previous synthesis ${join(outdir, 'stacks/prod/cdk.tf.json')} (kept as it was):`,
      `  - [${id}] ${error.problems[0]}`,
      `Change the site, or accept them explicitly: PROXMOX_K3S_HA_ACCEPT_UNSAFE=${id}`,
    ].join('\n'));
    expect(stackFile()).toBe(previous);
  });

  test('two servers removed at once: every removal problem, none written', () => {
    const previous = stackFile();
    const error = unsafeChangeOf(twoServersRemoved);
    expect(error.problems).toEqual(expect.arrayContaining([
      expect.stringContaining('prod: hosts: k3s-prod-cp-02, k3s-prod-cp-03 — 2 servers would leave at once'),
      expect.stringContaining('below the quorum of 2'),
      expect.stringContaining('prod: hosts: k3s-prod-cp-03 — a K3s node would leave without being decommissioned'),
    ]));
    expect(stackFile()).toBe(previous);
  });

  test('a K3s patch upgrade is safe: written', () => {
    synth({ ...prod, versions: { ...prod.versions, k3s: 'v1.36.4+k3s1' } });
    expect(JSON.parse(stackFile()).resource.terraform_data).toBeDefined();
    expect(stackFile()).toContain('v1.36.4+k3s1');
  });

  test('accepting the change by its id writes the synthesis and leaves a warning; another id accepts nothing', () => {
    const id = unsafeChangeId(unsafeChangeOf(downgraded).problems[0]);
    process.env[ACCEPT_UNSAFE_ENV] = '0123abcd';
    expect(unsafeChangeOf(downgraded).problems).toHaveLength(1);
    process.env[ACCEPT_UNSAFE_ENV] = `0123abcd, ${id}`;
    synth(downgraded);
    expect(stackFile()).toContain('v1.35.2+k3s1');
    expect(warnings()).toContainEqual(expect.stringMatching(new RegExp(`^unsafe change accepted by PROXMOX_K3S_HA_ACCEPT_UNSAFE \\[${id}\\]: prod: versions\\.k3s`)));
  });

  test('rollout.allowUnsafeServerRemoval in the site lets the removal through', () => {
    synth({ ...twoServersRemoved, rollout: { ...twoServersRemoved.rollout, allowUnsafeServerRemoval: true } });
    expect(stackFile()).not.toContain('k3s-prod-cp-03');
  });

  test('PROXMOX_K3S_HA_BASELINE names the folder compared with; a missing one is an error, one without the stack a warning', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'pkh-synth-guard-fresh-'));
    try {
      // A fresh output folder has no previous synthesis: only the named baseline catches the downgrade.
      synth(downgraded, elsewhere);
      process.env[BASELINE_ENV] = outdir;
      rmSync(elsewhere, { recursive: true, force: true });
      expect(() => synth(downgraded, elsewhere)).toThrow(UnsafeChangeError);

      process.env[BASELINE_ENV] = join(outdir, 'no-such-folder');
      expect(() => synth(prod, elsewhere)).toThrow(`the baseline has 1 problem:\n  - PROXMOX_K3S_HA_BASELINE: ${JSON.stringify(join(outdir, 'no-such-folder'))} — the folder of a previous synthesis`);

      const empty = join(outdir, 'empty');
      mkdirSync(empty);
      process.env[BASELINE_ENV] = empty;
      synth(downgraded, elsewhere);
      expect(warnings(elsewhere)).toContainEqual(expect.stringContaining('PROXMOX_K3S_HA_BASELINE: no previous synthesis of stack prod'));
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('runApp', () => {
  let stderr: string;
  const write = process.stderr.write;
  beforeEach(() => {
    stderr = '';
    process.stderr.write = ((chunk: string) => {
      stderr += chunk;
      return true;
    }) as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stderr.write = write;
    process.exitCode = undefined;
  });

  test('prints a ValidationError\'s list once, without stack frames, and sets exit status 1', () => {
    runApp(() => {
      defineSite({ ...prod, hosts: prod.hosts.map((host, i) => (i === 0 ? { ...host, ip: '192.168.0.300' } : host)) });
    });
    expect(stderr).toBe('site "prod" has 1 problem:\n  - hosts[k3s-prod-lb-01].ip: "192.168.0.300" — an IPv4 address in dotted-decimal form\n');
    expect(process.exitCode).toBe(1);
  });

  test('prints an UnsafeChangeError\'s message; any other error is rethrown with its stack', () => {
    runApp(() => {
      throw new UnsafeChangeError('prod', 'cdktf.out/stacks/prod/cdk.tf.json', ['prod: versions.k3s: "v1" — a downgrade']);
    });
    expect(stderr).toMatch(/^stack prod: 1 unsafe change against its previous synthesis cdktf\.out\/stacks\/prod\/cdk\.tf\.json \(kept as it was\):\n {2}- \[[0-9a-f]{8}\] prod: versions\.k3s/);
    const bug = new TypeError('not an input mistake');
    expect(() => runApp(() => {
      throw bug;
    })).toThrow(bug);
  });
});

describe('the synth guard and an unreadable previous synthesis', () => {
  test('a previous cdk.tf.json that is not JSON is an error naming the file', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pkh-synth-guard-bad-'));
    try {
      mkdirSync(join(outdir, 'stacks/prod'), { recursive: true });
      writeFileSync(join(outdir, 'stacks/prod/cdk.tf.json'), '{ truncated');
      const site = defineSite(prod);
      const app = new App({ outdir });
      new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
      expect(() => app.synth()).toThrow(`${join(outdir, 'stacks/prod/cdk.tf.json')}: `);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
