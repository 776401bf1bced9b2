import { HostKind, HostRole, SiteSpec, defineSite } from '../../constructs';
import { compareSyntheses, formatChangeReport } from '../../constructs/tf';
import homelab from '../../sites/homelab';
import kubeadmMulti from '../../sites/kubeadm-multi';
import lab from '../../sites/lab';
import prod from '../../sites/prod';
import { synthSite } from '../support/synth';

/** The site's synthesized Terraform JSON. */
const synth = (spec: SiteSpec) => synthSite(defineSite(spec)).json;

/** The change report from `before` to `after`. */
function report(before: SiteSpec, after: SiteSpec) {
  return compareSyntheses(after.name, synth(before), synth(after));
}

const hostsWith = (r: ReturnType<typeof report>, action: string) => r.hosts.filter((h) => h.action === action).map((h) => h.host).sort();
const bumpPatch = (version: string) => version.replace(/^(v1\.\d+\.)(\d+)/, (_, head, patch) => `${head}${Number(patch) + 1}`);
const k3sVersionOf = (spec: SiteSpec) => defineSite(spec).versions.k3s;
const withHosts = (spec: SiteSpec, hosts: SiteSpec['hosts']): SiteSpec => ({ ...spec, hosts });

describe('the three day-2 changes of issue 10 converge in place and replace nothing', () => {
  test.each([homelab, lab, prod])('$name: a K3s patch bump converges exactly the K3s nodes, servers before agents, each restarting k3s', (site) => {
    const r = report(site, { ...site, versions: { ...site.versions, k3s: bumpPatch(k3sVersionOf(site)) } });
    const plan = defineSite(site);
    const k3sNodes = plan.hosts.filter((h) => h.roles.some((role) => role === HostRole.K3S_SERVER || role === HostRole.K3S_AGENT)).map((h) => h.name).sort();
    expect(hostsWith(r, 'replaced')).toEqual([]);
    expect(hostsWith(r, 'converge')).toEqual(k3sNodes);
    for (const change of r.hosts.filter((h) => h.action === 'converge')) {
      expect(change.files).toContain('/usr/local/lib/proxmox-k3s-ha/install-k3s.sh');
      expect(change.services.some((s) => /^k3s(-agent)? restart$/.test(s))).toBe(true);
    }
    const order = r.order.filter((host) => k3sNodes.includes(host));
    const lastServer = Math.max(...order.map((host, i) => (plan.hosts.find((h) => h.name === host)!.roles.includes(HostRole.K3S_SERVER) ? i : -1)));
    const firstAgent = order.findIndex((host) => plan.hosts.find((h) => h.name === host)!.roles.includes(HostRole.K3S_AGENT));
    expect(firstAgent === -1 || firstAgent > lastServer).toBe(true);
    expect(r.problems).toEqual([]);
  });

  test('prod: adding a server converges the three running servers (tls-san) and the load balancers, one new host', () => {
    const added = { ...prod.hosts.find((h) => h.name === 'k3s-prod-cp-03')!, name: 'k3s-prod-cp-04', ip: '192.168.0.204', vmId: 204 };
    // A fourth server is the step towards five (the site model wants an odd count unless told).
    const r = report(prod, { ...withHosts(prod, [...prod.hosts, added]), controlPlane: { ...prod.controlPlane, allowEvenServerCount: true } });
    expect(hostsWith(r, 'replaced')).toEqual([]);
    expect(hostsWith(r, 'new')).toEqual(['k3s-prod-cp-04']);
    expect(hostsWith(r, 'converge')).toEqual(['k3s-prod-cp-01', 'k3s-prod-cp-02', 'k3s-prod-cp-03', 'k3s-prod-lb-01', 'k3s-prod-lb-02', 'k3s-prod-lb-03']);
    const server = r.hosts.find((h) => h.host === 'k3s-prod-cp-01')!;
    expect(server.files).toEqual(['/etc/rancher/k3s/config.yaml']);
    expect(server.services).toEqual(['k3s restart']);
    const lb = r.hosts.find((h) => h.host === 'k3s-prod-lb-01')!;
    expect(lb.files).toEqual(['/etc/haproxy/haproxy.cfg']);
    expect(lb.services).toEqual(['haproxy reload']);
    expect(formatChangeReport('prod', r)).toContain('k3s-prod-cp-01: converge in place: /etc/rancher/k3s/config.yaml → k3s restart');
  });

  test('lab: adding an agent converges only the two Bind9 hosts (zone), which reload or restart named, not k3s', () => {
    const added = { ...lab.hosts.find((h) => h.name === 'lx-k3s-agent-02')!, name: 'lx-k3s-agent-03', ip: '192.168.168.123', vmId: 123, roles: [HostRole.K3S_AGENT] };
    const r = report(lab, withHosts(lab, [...lab.hosts, added]));
    expect(hostsWith(r, 'replaced')).toEqual([]);
    expect(hostsWith(r, 'new')).toEqual(['lx-k3s-agent-03']);
    expect(hostsWith(r, 'converge')).toEqual(['lx-k3s-agent-01', 'lx-k3s-agent-02']);
    for (const change of r.hosts.filter((h) => h.action === 'converge')) {
      expect(change.files.every((path) => path.startsWith('/var/lib/bind/'))).toBe(true);
      expect(change.services).toHaveLength(1);
      expect(change.services[0]).toMatch(/^named (reload|restart)$/);
    }
  });
});

describe('unsafe changes are rejected against the previous synthesis, naming the field and the value', () => {
  test('a K3s downgrade and a skipped minor', () => {
    const version = k3sVersionOf(prod);
    const minor = Number(/^v1\.(\d+)\./.exec(version)![1]);
    const down = report(prod, { ...prod, versions: { ...prod.versions, k3s: version.replace(/^v1\.\d+\./, `v1.${minor - 1}.`) } });
    // One problem for the site, not one per node that runs K3s.
    expect(down.problems).toHaveLength(1);
    expect(down.problems[0]).toMatch(/^prod: versions\.k3s: "v1\.\d+\.\d+\+k3s\d+" — a downgrade from /);
    const skip = report(prod, { ...prod, versions: { ...prod.versions, k3s: `v1.${minor + 2}.0+k3s1` } });
    expect(skip.problems[0]).toContain(`skips minor releases after ${version}`);
    expect(skip.problems[0]).toContain(`v1.${minor + 1}.x first`);
    const next = report(prod, { ...prod, versions: { ...prod.versions, k3s: `v1.${minor + 1}.0+k3s1` } });
    expect(next.problems).toEqual([]);
  });

  test('a kubeadm version change is rejected (kubeadm upgrades are not automated), never a silent replacement', () => {
    const r = report(kubeadmMulti, { ...kubeadmMulti, versions: { kubernetes: '1.30.15', crio: '1.30.14' } });
    expect(hostsWith(r, 'replaced')).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^kubeadm-multi: versions\.kubernetes: "1\.30\.15" — .* runs 1\.30\.14; kubeadm upgrades are not automated/);
  });

  test('a server leaves in two changes: decommission (drained, out of etcd), then removal; never directly', () => {
    const decommissioned = (names: string[], spec: SiteSpec = prod) => withHosts(spec, spec.hosts.map((h) => (names.includes(h.name) ? { ...h, decommission: true } : h)));
    const step1 = report(prod, decommissioned(['k3s-prod-cp-03']));
    expect(step1.problems).toEqual([]);
    expect(hostsWith(step1, 'decommission')).toEqual(['k3s-prod-cp-03']);
    expect(formatChangeReport('prod', step1)).toContain('k3s-prod-cp-03: decommission: drained, service stopped, Node deleted (the machine stays until removed)');
    const step2 = compareSyntheses('prod', synth(decommissioned(['k3s-prod-cp-03'])), synth(withHosts(prod, prod.hosts.filter((h) => h.name !== 'k3s-prod-cp-03'))));
    expect(step2.problems).toEqual([]);
    expect(hostsWith(step2, 'removed')).toEqual(['k3s-prod-cp-03']);

    const direct = report(prod, withHosts(prod, prod.hosts.filter((h) => h.name !== 'k3s-prod-cp-03')));
    expect(direct.problems).toEqual(['prod: hosts: k3s-prod-cp-03 — a K3s node would leave without being decommissioned: set its decommission: true and apply '
      + '(it is drained, its service stopped and its Node deleted from another server), then remove it from the site']);
  });

  test('two servers leaving at once, or below quorum, is rejected unless the site says so', () => {
    const servers = ['k3s-prod-cp-02', 'k3s-prod-cp-03'];
    const two = report(prod, withHosts(prod, prod.hosts.map((h) => (servers.includes(h.name) ? { ...h, decommission: true } : h))));
    expect(two.problems.join('\n')).toContain('k3s-prod-cp-02, k3s-prod-cp-03 — 2 servers would leave at once');
    expect(two.problems.join('\n')).toContain('leaves 1 of 3 etcd members, below the quorum of 2');
    const allowed = report(prod, { ...withHosts(prod, prod.hosts.filter((h) => !servers.includes(h.name))), rollout: { allowUnsafeServerRemoval: true } });
    expect(allowed.problems).toEqual([]);
  });

  test('a raised generation replaces exactly that host; one K3s server rebuilt per apply is accepted (its rejoin cleanup runs first), two are refused', () => {
    const rebuilt = (names: string[]) => withHosts(prod, prod.hosts.map((h) => (names.includes(h.name) ? { ...h, generation: 1 } : h)));
    const one = report(prod, rebuilt(['k3s-prod-cp-01']));
    expect(hostsWith(one, 'replaced')).toEqual(['k3s-prod-cp-01']);
    expect(one.hosts.find((h) => h.host === 'k3s-prod-cp-01')!.reason).toBe('generation raised (rebuild on purpose): 0 → 1');
    expect(one.problems).toEqual([]);
    const two = report(prod, rebuilt(['k3s-prod-cp-01', 'k3s-prod-cp-02'])).problems;
    expect(two).toEqual([
      'prod: hosts: k3s-prod-cp-01, k3s-prod-cp-02 — 2 servers would leave at once; decommission, remove or rebuild one server per change (or set rollout.allowUnsafeServerRemoval)',
      'prod: hosts: k3s-prod-cp-01, k3s-prod-cp-02 — leaves 1 of 3 etcd members, below the quorum of 2: the cluster would stop (add a server first, or set rollout.allowUnsafeServerRemoval)',
      ...['k3s-prod-cp-01', 'k3s-prod-cp-02'].map((host) => `prod: hosts[${host}]: generation — the machine is replaced (replace): `
        + '2 etcd quorum members (k3s-prod-cp-01, k3s-prod-cp-02) would go down in one apply, which can lose quorum: rebuild one per apply; '
        + 'keep the previous value until machine changes are rolled out one host at a time'),
    ]);
  });

  test('a load balancer or DNS server is rebuilt (or its container moved with a new generation) one per apply while a peer runs; a bare container move is refused', () => {
    const lbs = prod.hosts.filter((h) => h.roles.includes(HostRole.LOAD_BALANCER)).map((h) => h.name);
    const change = (spec: SiteSpec, edits: Record<string, Partial<SiteSpec['hosts'][number]>>) => withHosts(spec, spec.hosts.map((h) => ({ ...h, ...edits[h.name] })));
    const one = report(prod, change(prod, { [lbs[0]]: { generation: 1 } }));
    expect({ replaced: hostsWith(one, 'replaced'), problems: one.problems }).toEqual({ replaced: [lbs[0]], problems: [] });
    // A container cannot migrate: a move is a rebuild, accepted as one when the generation says so.
    const moved = report(prod, change(prod, { [lbs[1]]: { proxmoxNode: 'pve1', generation: 1 } }));
    expect({ replaced: hostsWith(moved, 'replaced'), problems: moved.problems }).toEqual({ replaced: [lbs[1]], problems: [] });
    expect(report(prod, change(prod, { [lbs[1]]: { proxmoxNode: 'pve1' } })).problems)
      .toEqual([expect.stringContaining(`prod: hosts[${lbs[1]}]: node_name — the machine is replaced (replace): it happens during the apply`)]);
    const two = report(prod, change(prod, { [lbs[0]]: { generation: 1 }, [lbs[1]]: { generation: 1 } })).problems;
    expect(two).toEqual(lbs.slice(0, 2).map((host) => expect.stringContaining(`hosts[${host}]: generation — the machine is replaced (replace): 2 load balancers (${lbs[0]}, ${lbs[1]}) go down together`)));

    const dnsHost = (name: string, ip: string, vmId: number) => ({ name, ip, vmId, proxmoxNode: 'pve1', kind: HostKind.LXC, roles: [HostRole.DNS] });
    const withDns = (count: number): SiteSpec => ({ ...prod, hosts: [...prod.hosts, dnsHost('dns-1', '192.168.0.231', 231), dnsHost('dns-2', '192.168.0.232', 232)].slice(0, prod.hosts.length + count), dns: {} });
    expect(report(withDns(2), change(withDns(2), { 'dns-2': { generation: 1 } })).problems).toEqual([]);
    // The only DNS server has no peer to answer meanwhile.
    expect(report(withDns(1), change(withDns(1), { 'dns-1': { generation: 1 } })).problems)
      .toEqual([expect.stringContaining('prod: hosts[dns-1]: generation — the machine is replaced (replace): it happens during the apply')]);
  });

  test('a rebuild is refused where no rejoin step exists (kubeadm control planes), accepted for a kubeadm worker; one datastore etcd member per apply is accepted, two are refused', () => {
    const plan = defineSite(homelab);
    const witness = plan.postgres!.witness!.name;
    const rebuilt = (names: string[]) => report(homelab, withHosts(homelab, homelab.hosts.map((h) => (names.includes(h.name) ? { ...h, generation: 1 } : h))));
    expect(rebuilt([witness]).problems).toEqual([]);
    const [first, second] = plan.postgres!.etcdMembers.filter((m) => m.name !== witness).map((m) => m.name);
    expect(rebuilt([second]).problems).toEqual([]);
    expect(rebuilt([first, second]).problems).toEqual([first, second].map((host) => expect.stringContaining(`hosts[${host}]: generation — the machine is replaced (replace): 2 etcd quorum members`)));
    const kubeadmRebuilt = (name: string) => report(kubeadmMulti, withHosts(kubeadmMulti, kubeadmMulti.hosts.map((h) => (h.name === name ? { ...h, generation: 1 } : h)))).problems;
    const worker = kubeadmMulti.hosts.filter((h) => h.roles.includes(HostRole.WORKER)).slice(-1)[0].name;
    expect(kubeadmRebuilt(worker)).toEqual([]);
    for (const controlPlane of kubeadmMulti.hosts.filter((h) => h.roles.includes(HostRole.CONTROL_PLANE)).map((h) => h.name)) {
      expect(kubeadmRebuilt(controlPlane)).toEqual(expect.arrayContaining([expect.stringContaining(`hosts[${controlPlane}]: generation — the machine is replaced`)]));
    }
  });
});
