import { HostRole, SiteSpec, defineSite } from '../../constructs';
import kubeadmMulti from '../../sites/kubeadm-multi';
import lab from '../../sites/lab';
import { kubeadmJoinPreparation } from '../../constructs/tf';
import { logicalIdOf, resourcesByPath, synthSite } from '../support/synth';
import { describeWithTools } from '../support/tools';
import { shellcheck } from '../support/validators';

const dataOf = (spec: SiteSpec) => resourcesByPath(synthSite(defineSite(spec)).json, 'terraform_data');
const labJson = synthSite(defineSite(lab)).json;
const idOf = (_data: unknown, path: string) => `terraform_data.${logicalIdOf(labJson, path)}`;

describe('K3s agents are drained around a converge that restarts k3s-agent, and only then', () => {
  const data = dataOf(lab);

  test('the chain: last server (drained around its machine restarts) → drain → converge → uncordon → next agent\'s drain', () => {
    expect(data['lab/lx-k3s-agent-01-Drain/Drain'].depends_on).toEqual([idOf(data, 'lab/lx-k3s-server-03-Drain/Uncordon')]);
    expect(data['lab/lx-k3s-agent-01/Converge/Resource'].depends_on).toContain(idOf(data, 'lab/lx-k3s-agent-01-Drain/Drain'));
    expect(data['lab/lx-k3s-agent-01-Drain/Uncordon'].depends_on).toEqual([idOf(data, 'lab/lx-k3s-agent-01/Converge/Resource')]);
    expect(data['lab/lx-k3s-agent-02-Drain/Drain'].depends_on).toEqual([idOf(data, 'lab/lx-k3s-agent-01-Drain/Uncordon')]);
  });

  test('the drain runs on the first server, evicts through the API (PodDisruptionBudgets honoured), bounded', () => {
    const drain = data['lab/lx-k3s-agent-01-Drain/Drain'];
    expect(drain.connection).toMatchObject({ host: '192.168.168.111', user: 'k3sadmin' });
    const k = 'sudo /usr/local/bin/k3s kubectl --request-timeout=30s';
    expect((drain.provisioner as { 'remote-exec': { inline: string[] } }[])[0]['remote-exec'].inline).toEqual([
      `if ${k} get node lx-k3s-agent-01 >/dev/null 2>&1; then { ${k} cordon lx-k3s-agent-01 && `
        + `${k} drain lx-k3s-agent-01 --ignore-daemonsets --delete-emptydir-data --timeout=600s; } || { echo 'proxmox-k3s-ha: lx-k3s-agent-01: drain: gave up after 600 s `
        + 'waiting for its pods to be evicted (PodDisruptionBudgets may hold them back)\' >&2; exit 1; }; fi',
    ]);
  });

  test('a zone change on an agent (it also serves DNS) converges it without a drain; a K3s upgrade drains it', () => {
    const trigger = (d: typeof data) => (d['lab/lx-k3s-agent-01-Drain/Drain'].triggers_replace as { restart: string }).restart;
    const added = { ...lab.hosts.find((h) => h.name === 'lx-k3s-agent-02')!, name: 'lx-k3s-agent-03', ip: '192.168.168.123', vmId: 123, roles: [HostRole.K3S_AGENT] };
    const withAgent = dataOf({ ...lab, hosts: [...lab.hosts, added] });
    expect(trigger(withAgent)).toBe(trigger(data));
    expect((withAgent['lab/lx-k3s-agent-01/Converge/Resource'].triggers_replace as { configuration: string }).configuration)
      .not.toBe((data['lab/lx-k3s-agent-01/Converge/Resource'].triggers_replace as { configuration: string }).configuration);
    const upgraded = dataOf({ ...lab, versions: { k3s: defineSite(lab).versions.k3s.replace(/\+k3s(\d+)$/, (_, n) => `+k3s${Number(n) + 1}`) } });
    expect(trigger(upgraded)).not.toBe(trigger(data));
  });
});

describe('a decommissioned K3s node leaves the cluster in place, before its machine is removed', () => {
  // Only K3s nodes are taken out: the decommissioned hosts give up their other roles (load balancer, DNS) first.
  const k3sOnly = (h: SiteSpec['hosts'][number]) => ({ ...h, roles: h.roles.filter((role) => role === HostRole.K3S_SERVER || role === HostRole.K3S_AGENT) });
  const decommissioned = (names: string[]) => dataOf({ ...lab, hosts: lab.hosts.map((h) => (names.includes(h.name) ? { ...k3sOnly(h), decommission: true } : h)) });
  const data = decommissioned(['lx-k3s-server-02', 'lx-k3s-agent-01']);
  type Provisioner = { 'remote-exec': { inline: string[]; connection?: Record<string, unknown> } };
  const steps = (name: string) => data[`lab/${name}-Decommission/Resource`].provisioner as Provisioner[];

  test('drain from another server, stop the service on the node, delete the Node, wait; the node gets no converge step', () => {
    const server2 = steps('lx-k3s-server-02');
    expect(data['lab/lx-k3s-server-02-Decommission/Resource'].connection).toMatchObject({ host: '192.168.168.111', user: 'k3sadmin' });
    expect(server2[0]['remote-exec'].inline[0]).toContain('kubectl --request-timeout=30s drain lx-k3s-server-02 --ignore-daemonsets --delete-emptydir-data --timeout=600s');
    expect(server2[1]['remote-exec']).toEqual({
      connection: expect.objectContaining({ host: '192.168.168.112' }),
      inline: ['sudo timeout -k 10 300 systemctl disable --now k3s || { echo \'proxmox-k3s-ha: lx-k3s-server-02: decommission: gave up after 300 s waiting for k3s to stop\' >&2; exit 1; }'],
    });
    expect(server2[2]['remote-exec'].inline[0]).toContain('kubectl --request-timeout=30s delete node lx-k3s-server-02');
    expect(server2[2]['remote-exec'].inline[2]).toContain('get --raw /readyz/etcd');
    expect(steps('lx-k3s-agent-01')[1]['remote-exec'].inline[0]).toMatch(/^sudo timeout -k 10 300 systemctl disable --now k3s-agent \|\| /);
    // Every kubectl request is bounded: a hung API server cannot hold the step.
    expect(server2.flatMap((step) => step['remote-exec'].inline).join('\n').match(/kubectl (?!--request-timeout=30s)/g)).toBeNull();
    expect(steps('lx-k3s-agent-01')[2]['remote-exec'].inline.join('\n')).not.toContain('/readyz/etcd');
    expect(data['lab/lx-k3s-server-02/Converge/Resource']).toBeUndefined();
    expect(data['lab/lx-k3s-agent-01-Drain/Drain']).toBeUndefined();
    // The first server's decommissioning would go through the second: a peer is never the node itself.
    expect(decommissioned(['lx-k3s-server-01'])['lab/lx-k3s-server-01-Decommission/Resource'].connection).toMatchObject({ host: '192.168.168.112' });
  });

  test('the remaining servers\' quorum gate counts only servers still in etcd', () => {
    const script = (data['lab/lx-k3s-server-01/Converge/Resource'].provisioner as { file?: { content: string } }[]).find((p) => p.file)!.file!.content;
    expect(script).toContain('all 2 etcd members are Ready nodes (full quorum)');
  });

  describeWithTools(['shellcheck'], 'shellcheck', () => {
    test('accepts the decommissioning and drain commands', () => {
      for (const name of ['lx-k3s-server-02', 'lx-k3s-agent-01']) {
        expect(shellcheck(`#!/bin/sh\nset -eu\n${steps(name).flatMap((step) => step['remote-exec'].inline).join('\n')}\n`).output).toBe('');
      }
    });
  });
});

describe('a kubeadm node that joins later finds a valid token (and control planes the uploaded certificates)', () => {
  const json = synthSite(defineSite(kubeadmMulti)).json;
  const data = resourcesByPath(json, 'terraform_data');
  const vms = resourcesByPath(json, 'proxmox_virtual_environment_vm');

  test('the joining node\'s machine waits for the preparation, which runs on the first control plane after its converge step', () => {
    const preparation = data['kubeadm-multi/worker1-JoinPreparation/Resource'];
    expect(preparation.depends_on).toEqual([`terraform_data.${logicalIdOf(json, 'kubeadm-multi/master1/Converge/Resource')}`]);
    expect(preparation.connection).toMatchObject({ host: '10.0.1.11', user: 'k3sadmin' });
    expect(preparation.triggers_replace).toEqual({ node: 'worker1', generation: 0 });
    expect(vms['kubeadm-multi/worker1/Resource'].depends_on).toEqual([`terraform_data.${logicalIdOf(json, 'kubeadm-multi/worker1-JoinPreparation/Resource')}`]);
    expect(vms['kubeadm-multi/master1/Resource'].depends_on).toBeUndefined();
  });

  test('the token is created again from the init configuration (no secret in the command); certificates only for control planes', () => {
    const inline = (name: string) => (data[`kubeadm-multi/${name}-JoinPreparation/Resource`].provisioner as { 'remote-exec': { inline: string[] } }[])[0]['remote-exec'].inline[0];
    expect(inline('worker1')).toContain('kubeadm token create "$token" --ttl 2h');
    expect(inline('worker1')).toContain('kubeadm token delete "$${token%%.*}"');
    expect(inline('worker1')).not.toContain('upload-certs');
    expect(inline('master2')).toContain('kubeadm init phase upload-certs --upload-certs --config /etc/kubernetes/kubeadm/init.yaml');
  });

  describeWithTools(['shellcheck'], 'shellcheck', () => {
    test('accepts the preparation script', () => {
      expect(shellcheck(`#!/bin/sh\nset -eu\n${kubeadmJoinPreparation('/etc/kubernetes/kubeadm/init.yaml', true).join('\n')}\n`).output).toBe('');
    });
  });
});
