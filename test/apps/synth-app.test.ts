import { spawnSync } from 'child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';

import { SITE_SPECS } from '../../sites';

const root = resolve(__dirname, '../..');

/** A scratch copy of the compiled apps (lib/, scripts/, a node_modules link) that a test may break. */
function scratchProject(): string {
  if (!existsSync(join(root, 'lib/infra/main.js'))) {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'pkh-app-'));
  cpSync(join(root, 'lib'), join(dir, 'lib'), { recursive: true });
  cpSync(join(root, 'scripts'), join(dir, 'scripts'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function synth(dir: string) {
  return spawnSync(process.execPath, [join(dir, 'scripts/synth.js')], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
}

describe('npm run synth (compiled apps)', () => {
  let dir: string;
  beforeEach(() => {
    dir = scratchProject();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the lab stack with 5 VMs and snippets, and one GitOps folder per site', () => {
    const result = synth(dir);
    expect(result.status).toBe(0);
    // The sites' warnings, and nothing else, on stderr: the compiled app itself does not print annotations.
    const warnings = result.stderr.trim().split('\n');
    expect(warnings.filter((line) => !line.startsWith('warning: '))).toEqual([]);
    expect(warnings).toContain('warning: kubeadm-multi: hosts: 2 stacked etcd members tolerate no failure: losing either control-plane node stops the cluster (use 3)');
    const stack = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks/lab/cdk.tf.json'), 'utf8'));
    expect(Object.keys(stack.resource.proxmox_virtual_environment_vm)).toHaveLength(5);
    // Per VM a user-data and a meta-data snippet (the fixed cloud-init instance-id).
    expect(Object.values(stack.resource.proxmox_virtual_environment_file).map((f: any) => f.content_type)).toEqual(Array(10).fill('snippets'));
    expect(readdirSync(join(dir, 'dist/k8s')).sort()).toEqual(SITE_SPECS.map((site) => site.name).sort());
    expect(readdirSync(join(dir, 'cdktf.out/stacks')).sort()).toEqual(SITE_SPECS.map((site) => site.name).sort());
  });

  test('fails on a site with typos with one error naming every problem, and writes nothing', () => {
    const labJs = join(dir, 'lib/sites/lab.js');
    writeFileSync(labJs, readFileSync(labJs, 'utf8')
      .replace("'192.168.168.112'", "'192.168.168.1122'")
      .replace("proxmoxNode: 'pve3'", "proxmoxNode: 'pve4'")
      .replace("vmId: 122", "vmId: 121"));
    const result = synth(dir);
    expect(result.status).toBe(1);
    expect(result.stderr.startsWith(`the list of ${SITE_SPECS.length} sites has 3 problems:\n`)).toBe(true); // as the README shows it
    expect(result.stderr).toContain('lab: hosts[lx-k3s-server-02].ip: "192.168.168.1122" — an IPv4 address in dotted-decimal form');
    expect(result.stderr).toContain('lab: hosts[lx-k3s-server-03].proxmoxNode: "pve4" — one of proxmox.nodes (pve1, pve2, pve3)');
    expect(result.stderr).toContain('lab: hosts[lx-k3s-agent-02].vmId: 121 — a unique VM id (already used by hosts[lx-k3s-agent-01].vmId)');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(join(dir, 'cdktf.out'))).toBe(false);
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });

  test('SITE selects sites and rejects unknown names', () => {
    const result = spawnSync(process.execPath, [join(dir, 'scripts/synth.js')], { cwd: dir, encoding: 'utf8', env: { ...process.env, SITE: 'lab,nope' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('SITE: "lab,nope" — expected site names among');
    expect(result.stderr).toContain('(unknown: nope)');
  });
});

describe('infra app wiring', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchProject();
    expect(synth(dir).status).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the first K3s server (only) carries the Cilium HelmChart in K3s\'s auto-deploy folder, identical to the GitOps copy', () => {
    const stack = JSON.parse(readFileSync(join(dir, 'cdktf.out/stacks/lab/cdk.tf.json'), 'utf8'));
    const withCilium = Object.entries(stack.resource.proxmox_virtual_environment_file)
      .filter(([, file]: [string, any]) => file.source_raw.data.includes('/var/lib/rancher/k3s/server/manifests/cilium.yaml'))
      .map(([id]) => id);
    expect(withCilium).toEqual([expect.stringMatching(/^lx-k3s-server-01_UserData_/)]);
    const gitops = readdirSync(join(dir, 'dist/k8s/lab')).find((f) => f.startsWith('HelmChart.'));
    expect(gitops).toBeDefined();
    const serverData: string = (stack.resource.proxmox_virtual_environment_file[withCilium[0]] as any).source_raw.data;
    const gitopsText = readFileSync(join(dir, 'dist/k8s/lab', gitops!), 'utf8');
    for (const line of ['kind: HelmChart', 'bootstrap: true', 'chart: cilium']) {
      expect(serverData).toContain(line);
      expect(gitopsText).toContain(line);
    }
    expect(serverData).toContain('valuesContent: |');
  });
});
