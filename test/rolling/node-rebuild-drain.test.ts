import { App, LocalBackend, TerraformStack, TerraformVariable } from 'cdktf';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { NodeRebuildDrain, setLifecycleReferences } from '../../constructs/tf';
import { TerraformData } from '../../constructs/tf/terraform-data';
import { labAddress } from '../failover/lab';
import { describeWithTools } from '../support/tools';
import { LabHost, RollingLab } from './lab';
import { installKubectlStandin, kubectlCalls } from './kubectl-standin';

/**
 * A K3s node's rebuild drains it before its old machine is destroyed, run by the real Terraform CLI: the drain is
 * a destroy-time provisioner on a server host; the node's machine is stood in by a `terraform_data` replaced with
 * its rebuild counter, whose own destroy-time `local-exec` logs when it is destroyed. There is no K3s here
 * (kubectl-standin.ts).
 */
describeWithTools(['sshd', 'terraform', 'named', 'ip', 'nsenter', 'unshare', 'ssh-keygen'], 'draining a rebuilt node with the real Terraform CLI', () => {
  let lab: RollingLab;
  let server: LabHost;
  const dir = () => join(lab.workDir, 'rebuild-drain');
  const destroyLog = () => join(dir(), 'machine-destroyed');

  beforeAll(async () => {
    lab = new RollingLab();
    server = await lab.addSshHost('srv', labAddress(43));
    mkdirSync(dir(), { recursive: true });
    expect(await apply(0)).toMatchObject({ status: 0 });
    expect(kubectlCallsOrNone()).toEqual([]);
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  }, 60_000);

  function kubectlCallsOrNone() {
    return lab.readHostFile(server, '/usr/local/bin/k3s') === undefined ? [] : kubectlCalls(lab, server);
  }

  function synth(generation: number): string {
    const outdir = join(lab.workDir, 'cdktf.out');
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'rebuild-drain');
    // cdktf's default local backend writes the state into the current directory (the repository): keep it in the lab.
    new LocalBackend(stack, { path: join(dir(), 'terraform.tfstate') });
    const key = new TerraformVariable(stack, 'ssh_private_key', { type: 'string', sensitive: true }).stringValue;
    // As a machine construct has it: a rebuild counter whose update replaces the machine.
    const machineGeneration = new TerraformData(stack, 'node-2-Generation', { input: { generation } });
    const machine = new TerraformData(stack, 'node-2-Machine', {
      provisioners: [{ type: 'local-exec', when: 'destroy', command: `echo "$(date +%s%3N) destroyed" >> ${destroyLog()}` }],
    });
    setLifecycleReferences(machine, { replaceTriggeredBy: [machineGeneration] });
    new NodeRebuildDrain(stack, 'node-2-RebuildDrain', {
      node: 'node-2',
      machine: { resource: machine, generation: machineGeneration },
      via: { connection: { host: server.ip, user: 'root', privateKey: key, hostKey: server.hostKey }, kubectl: '/usr/local/bin/k3s kubectl' },
    });
    app.synth();
    return readFileSync(join(outdir, 'stacks/rebuild-drain/cdk.tf.json'), 'utf8');
  }

  async function apply(generation: number) {
    writeFileSync(join(dir(), 'cdk.tf.json'), synth(generation));
    if (generation === 0) {
      expect((await lab.runTerraform(dir(), ['init', '-input=false', '-no-color'])).status).toBe(0);
    }
    const result = await lab.runTerraform(dir(), ['apply', '-auto-approve', '-input=false', '-no-color'], { TF_VAR_ssh_private_key: lab.privateKey });
    expect(`${result.stdout}${result.stderr}`).not.toContain(lab.privateKey.split('\n')[1]);
    return result;
  }

  const destroyedAt = () => readFileSync(destroyLog(), 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));

  test('a Ready node: cordoned and drained from the server, then its machine destroyed', async () => {
    installKubectlStandin(lab, server, { 'node-2': 'True' });
    const result = await apply(1);
    expect(result).toMatchObject({ status: 0 });
    const calls = kubectlCalls(lab, server);
    expect(calls.map((c) => c.call)).toEqual([
      `get node node-2 -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`,
      'get node node-2', 'cordon node-2', 'drain node-2 --ignore-daemonsets --delete-emptydir-data --timeout=600s',
    ]);
    expect(destroyedAt()).toHaveLength(1);
    expect(destroyedAt()[0]).toBeGreaterThan(calls[3].t);
  }, 300_000);

  test('a node that is not Ready: not drained, said so, machine destroyed', async () => {
    installKubectlStandin(lab, server, { 'node-2': 'False' });
    const result = await apply(2);
    expect(result).toMatchObject({ status: 0 });
    expect(result.stdout).toContain('proxmox-k3s-ha: node-2: not Ready, so not drained before its machine is destroyed');
    expect(kubectlCalls(lab, server).map((c) => c.call)).toEqual([`get node node-2 -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`]);
    expect(destroyedAt()).toHaveLength(2);
  }, 300_000);

  test('a drain that fails: the failure printed, the rebuild goes on', async () => {
    installKubectlStandin(lab, server, { 'node-2': 'True' });
    lab.exec(server, 'echo node-2 > /var/lib/standin-drain-fails');
    const result = await apply(3);
    expect(result).toMatchObject({ status: 0 });
    expect(`${result.stdout}${result.stderr}`).toContain('proxmox-k3s-ha: node-2: drain: gave up after 600 s');
    const calls = kubectlCalls(lab, server);
    expect(calls.map((c) => c.call)).toContain('drain node-2 --ignore-daemonsets --delete-emptydir-data --timeout=600s');
    expect(destroyedAt()).toHaveLength(3);
    expect(destroyedAt()[2]).toBeGreaterThan(calls[calls.length - 1].t);
  }, 300_000);

  test('a rotated key changes nothing: no replacement, so no drain', async () => {
    writeFileSync(join(dir(), 'cdk.tf.json'), synth(3));
    const plan = await lab.runTerraform(dir(), ['plan', '-detailed-exitcode', '-input=false', '-no-color'], { TF_VAR_ssh_private_key: `${lab.privateKey}\n# rotated\n` });
    // -detailed-exitcode: 0 is "no changes", 2 would be a planned change.
    expect(plan).toMatchObject({ status: 0 });
  }, 300_000);
}, { needsRoot: true });
