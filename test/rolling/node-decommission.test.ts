import { App, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { NodeDecommission } from '../../constructs/tf';
import { labAddress } from '../failover/lab';
import { describeWithTools } from '../support/tools';
import { LabHost, RollingLab } from './lab';
import { installKubectlStandin, kubectlCalls } from './kubectl-standin';

/**
 * Decommissioning a node, run by the real Terraform CLI across two SSH hosts: kubectl on a control-plane host,
 * the service stop on the node itself, in that order. There is no K3s here: `k3s kubectl` on the server host is a
 * stand-in that keeps a list of Nodes and logs each call with the time (kubectl-standin.ts); the node's service is
 * named (the lab's systemd stand-in runs it for real).
 */

describeWithTools(['sshd', 'terraform', 'named', 'ip', 'nsenter', 'unshare', 'ssh-keygen'], 'decommissioning a node with the real Terraform CLI', () => {
  let lab: RollingLab;
  let server: LabHost;
  let node: LabHost;
  const dir = () => join(lab.workDir, 'decommission');

  beforeAll(async () => {
    lab = new RollingLab();
    server = await lab.addSshHost('srv', labAddress(41));
    node = await lab.addSshHost('node-2', labAddress(42));
    installKubectlStandin(lab, server, { 'node-2': 'True' });
    mkdirSync(dir(), { recursive: true });
    writeFileSync(join(dir(), 'cdk.tf.json'), synth());
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  function synth(): string {
    const outdir = join(lab.workDir, 'cdktf.out');
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'decommission');
    // cdktf's default local backend writes the state into the current directory (the repository): keep it in the lab.
    new LocalBackend(stack, { path: join(dir(), 'terraform.tfstate') });
    const key = new TerraformVariable(stack, 'ssh_private_key', { type: 'string', sensitive: true }).stringValue;
    new NodeDecommission(stack, 'node-2-Decommission', {
      node: 'node-2',
      via: { connection: { host: server.ip, user: 'root', privateKey: key, hostKey: server.hostKey }, kubectl: '/usr/local/bin/k3s kubectl' },
      nodeConnection: { host: node.ip, user: 'root', privateKey: key, hostKey: node.hostKey },
      unit: 'named',
      etcdMember: true,
      machines: [],
      record: { host: 'node-2' },
    });
    app.synth();
    return readFileSync(join(outdir, 'stacks/decommission/cdk.tf.json'), 'utf8');
  }

  test('drain from the server, stop the service on the node, delete the Node from the server, wait for etcd; the key never shows', async () => {
    expect((await lab.runTerraform(dir(), ['init', '-input=false', '-no-color'])).status).toBe(0);
    const result = await lab.runTerraform(dir(), ['apply', '-auto-approve', '-input=false', '-no-color'], { TF_VAR_ssh_private_key: lab.privateKey });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('proxmox-k3s-ha: node node-2 is out of the cluster; remove it from the site to destroy its machine');
    expect(`${result.stdout}${result.stderr}`).not.toContain(lab.privateKey.split('\n')[1]);
    const calls = kubectlCalls(lab, server);
    expect(calls.map((c) => c.call)).toEqual([
      'get node node-2', 'cordon node-2', 'drain node-2 --ignore-daemonsets --delete-emptydir-data --timeout=600s',
      'get node node-2', 'delete node node-2 --timeout=120s', 'get node node-2', 'get --raw /readyz/etcd',
    ]);
    const stop = lab.systemctlJournal(node).find((entry) => entry.args.join(' ') === 'disable --now named')!;
    expect(stop).toBeDefined();
    expect(stop.t).toBeGreaterThan(calls[2].t);
    expect(stop.t).toBeLessThan(calls[4].t);
  }, 300_000);
}, { needsRoot: true });
