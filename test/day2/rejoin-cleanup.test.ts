import { execFile, execFileSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { createServer, Server } from 'https';
import { tmpdir } from 'os';
import { join } from 'path';
import { defineSite } from '../../constructs';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { interpolateForValidation, shellcheck } from '../support/validators';
import { LifecycleScript, lifecycleScript } from '../../constructs/tf/lifecycle/lifecycle-scripts';

/** The script as it runs: the lifecycle library, then assets/node-rejoin-cleanup.sh. */
const SCRIPT_TEXT = lifecycleScript(LifecycleScript.NODE_REJOIN_CLEANUP);
const rebuilt = (host: string, generation: number) => defineSite({ ...prod, hosts: prod.hosts.map((h) => (h.name === host ? { ...h, generation } : h)) });

describe('a rebuilt K3s node: its old Node, node password and etcd member are removed before its new machine is created', () => {
  test('the first build has no cleanup; a raised generation adds one, run from another server, that the new machine waits for', () => {
    expect(Object.keys(resourcesByPath(synthSite(defineSite(prod)).json, 'terraform_data')).filter((path) => /RejoinCleanup/.test(path))).toEqual([]);
    const { json } = synthSite(rebuilt('k3s-prod-cp-01', 1));
    const cleanup = resourcesByPath(json, 'terraform_data')['prod/k3s-prod-cp-01-RejoinCleanup/Resource'];
    expect(cleanup.triggers_replace).toEqual({ node: 'k3s-prod-cp-01', generation: 1 });
    // Run on the next server, as the admin user, with the key from the sensitive variable.
    expect(cleanup.connection).toMatchObject({ host: '192.168.0.202', private_key: '${var.ssh_private_key}' });
    const [command] = cleanup.provisioner[0]['remote-exec'].inline as string[];
    // The shipped script, exactly (shell-quoted, Terraform-escaped), with the node, its address and its etcd membership.
    const [, quoted] = /^sudo env PKH_KUBECTL='\/usr\/local\/bin\/k3s kubectl' PKH_CLUSTER_MARKER=\/var\/lib\/rancher\/k3s\/server PKH_K3S_NODE_PASSWORD=1 sh -eu -c ('(?:[^']|'\\'')*') node-rejoin-cleanup 'k3s-prod-cp-01' '192\.168\.0\.201' '1'$/.exec(command)!;
    expect(interpolateForValidation(quoted.slice(1, -1).split("'\\''").join("'"))).toBe(SCRIPT_TEXT);
    // The new machine depends on it; the cleanup on the server it runs from.
    const machines = resourcesByPath(json, 'proxmox_virtual_environment_vm');
    const cleanupAddress = Object.entries(json.resource.terraform_data).find(([, r]) => r === cleanup)![0];
    expect(machines['prod/k3s-prod-cp-01/Resource'].depends_on).toEqual(expect.arrayContaining([`terraform_data.${cleanupAddress}`]));
    const peerAddress = Object.entries(json.resource.proxmox_virtual_environment_vm).find(([, r]) => r === machines['prod/k3s-prod-cp-02/Resource'])![0];
    expect(cleanup.depends_on).toEqual([`proxmox_virtual_environment_vm.${peerAddress}`]);
  });
});

describe('a rebuilt K3s node is drained before its old machine is destroyed', () => {
  const { json } = synthSite(defineSite(prod));
  const drains = resourcesByPath(json, 'terraform_data');
  const machines = resourcesByPath(json, 'proxmox_virtual_environment_vm');
  const addressOf = (resource: unknown) => Object.entries(json.resource.proxmox_virtual_environment_vm).find(([, r]) => r === resource)![0];

  test('every server has one from the first build, after its own machine and the machine it drains from', () => {
    const drain = drains['prod/k3s-prod-cp-01-RebuildDrain/Resource'];
    expect(Object.keys(drains).filter((path) => /RebuildDrain\/Resource$/.test(path)).sort())
      .toEqual(['k3s-prod-cp-01', 'k3s-prod-cp-02', 'k3s-prod-cp-03'].map((host) => `prod/${host}-RebuildDrain/Resource`));
    expect(drain.depends_on).toEqual([
      `proxmox_virtual_environment_vm.${addressOf(machines['prod/k3s-prod-cp-01/Resource'])}`,
      `proxmox_virtual_environment_vm.${addressOf(machines['prod/k3s-prod-cp-02/Resource'])}`,
    ]);
  });

  test('a destroy-time drain whose connection comes from the resource itself, its key a reference kept out of `input`', () => {
    const drain = drains['prod/k3s-prod-cp-01-RebuildDrain/Resource'];
    expect(drain.input).toBeUndefined();
    expect(drain.triggers_replace).toMatchObject({ node: 'k3s-prod-cp-01', host: '192.168.0.202', privateKey: '${var.ssh_private_key}' });
    expect(Object.values(drain.connection).filter((value) => typeof value === 'string' && value.includes('${') && !value.startsWith('${self.'))).toEqual([]);
    expect(drain.lifecycle.ignore_changes).toEqual(['triggers_replace']);
    const [provisioner] = drain.provisioner;
    expect(provisioner['remote-exec']).toMatchObject({ when: 'destroy', on_failure: 'continue' });
    expect(provisioner['remote-exec'].inline[0]).toContain('drain k3s-prod-cp-01 --ignore-daemonsets');
  });
});

/** Runs the cleanup with a stand-in `k3s` that logs its arguments and answers like a cluster holding the node. */
function runCleanup(dir: string, env: Record<string, string> = {}): Promise<{ code: number; stderr: string; calls: string[] }> {
  return new Promise((done) => {
    execFile('sh', ['-eu', '-c', SCRIPT_TEXT, 'node-rejoin-cleanup', 'cp1', '127.0.0.1', '1'], {
      timeout: 60_000,
      env: { ...process.env, PKH_KUBECTL: `${join(dir, 'k3s')} kubectl`, PKH_CLUSTER_MARKER: join(dir, 'server'), PKH_K3S_NODE_PASSWORD: '1', PKH_WAIT_SECONDS: '4', ...env },
    }, (error, _stdout, stderr) => {
      let calls: string[] = [];
      try {
        calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        // no call made
      }
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr, calls });
    });
  });
}

// The stand-in: `get node cp1` succeeds until `delete node cp1` ran; every other call succeeds.
const STANDIN_K3S = `#!/bin/sh
echo "$*" | sed 's/--request-timeout=30s //' >> "$(dirname "$0")/calls"
case "$*" in
  *"get node cp1"*) [ ! -e "$(dirname "$0")/deleted" ] ;;
  *"delete node cp1"*) touch "$(dirname "$0")/deleted" ;;
  *) exit 0 ;;
esac
`;

describeWithTools(['curl', 'openssl'], 'node-rejoin-cleanup.sh with a stand-in K3s', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-rejoin-'));
    writeFileSync(join(dir, 'k3s'), STANDIN_K3S);
    chmodSync(join(dir, 'k3s'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('with the old machine gone: API ready, Node deleted (not forced), node password deleted, Node gone, then etcd ready without it', async () => {
    mkdirSync(join(dir, 'server'));
    const result = await runCleanup(dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([
      'kubectl get --raw /readyz',
      'kubectl get node cp1',
      'kubectl delete node cp1 --timeout=120s',
      'kubectl -n kube-system delete secret cp1.node-password.k3s --ignore-not-found',
      'kubectl get node cp1',
      'kubectl get --raw /readyz/etcd',
    ]);
  });

  test('on kubeadm (no node password): the Node deleted, no secret touched', async () => {
    mkdirSync(join(dir, 'server'));
    const result = await runCleanup(dir, { PKH_K3S_NODE_PASSWORD: '0' });
    expect(result.code).toBe(0);
    expect(result.calls.filter((call) => call.includes('secret'))).toEqual([]);
    expect(result.calls).toContain('kubectl delete node cp1 --timeout=120s');
  });

  test('no K3s on the server yet (the site is being built): nothing is called', async () => {
    const result = await runCleanup(dir);
    expect(result.code).toBe(0);
    expect(result.calls).toEqual([]);
  });

  describe('the old machine still answers on its kubelet port', () => {
    let server: Server;
    beforeAll(async () => {
      const key = join(tmpdir(), `pkh-rejoin-key-${process.pid}.pem`);
      const cert = join(tmpdir(), `pkh-rejoin-cert-${process.pid}.pem`);
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=kubelet'], { stdio: 'ignore' });
      server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_, response) => response.end('ok'));
      rmSync(key);
      rmSync(cert);
      await new Promise<void>((ready) => server.listen(10250, '127.0.0.1', ready));
    });
    afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

    test('nothing is deleted, and the step fails within its deadline naming the node and what it waited for', async () => {
      mkdirSync(join(dir, 'server'));
      const result = await runCleanup(dir);
      expect(result.code).toBe(1);
      expect(result.calls).toEqual([]);
      expect(result.stderr).toBe('proxmox-k3s-ha: cp1: rejoin cleanup: gave up after 4 s waiting for the previous machine at 127.0.0.1 to stop answering\n');
    });
  });
});
