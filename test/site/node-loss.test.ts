// What losing each Proxmox node takes down (constructs/site/node-loss.ts), its warning and its table in the site
// page. Every expectation is counted here again from the hosts' roles and nodes, never read back from the function.
import { readFileSync } from 'fs';
import { resolve } from 'path';
import {
  HostPlan, HostRole, NodeLossVerdict, ProxmoxNodeLoss, SitePlan, SiteService, SiteSpec, StopCause, defineSite, proxmoxNodeLosses,
} from '../../constructs';
import { renderSiteDocument } from '../../constructs/renderers';
import { loadSites } from '../../sites';
import homelabSpec from '../../sites/homelab';
import kubeadmStackedSpec from '../../sites/kubeadm-stacked';
import labSpec from '../../sites/lab';
import prodSpec from '../../sites/prod';

const docsDir = resolve(__dirname, '../../docs/sites');
const sites = Object.fromEntries(loadSites().map((site) => [site.name, site]));

/** Independent counts: hosts carrying any of `roles` (not decommissioned) off `node`, of all of them. */
function count(plan: SitePlan, node: string, ...roles: HostRole[]): { left: number; of: number } {
  const group = plan.hosts.filter((h) => !h.decommission && roles.some((role) => h.roles.includes(role)));
  return { left: group.filter((h) => h.proxmoxNode !== node).length, of: group.length };
}
const majority = (members: number) => Math.floor(members / 2) + 1;
const lossOf = (plan: SitePlan, node: string): ProxmoxNodeLoss => {
  const loss = proxmoxNodeLosses(plan).find((l) => l.node === node);
  if (!loss) {
    throw new Error(`site ${plan.name}: no row for Proxmox node ${node}`);
  }
  return loss;
};
const verdicts = (plan: SitePlan) => Object.fromEntries(proxmoxNodeLosses(plan).map((loss) => [loss.node, loss.verdict]));
const causes = (loss: ProxmoxNodeLoss) => loss.stops.map((stop) => `${stop.service}/${stop.cause}`);
const nodeWarnings = (plan: SitePlan) => plan.warnings.filter((w) => w.message.startsWith('losing Proxmox node')).map((w) => `${w.path}: ${w.message}`);
const tableRow = (text: string, node: string) => text.split('\n').find((line) => line.startsWith(`| ${node} | `)) ?? '';
const section = (text: string) => text.slice(text.indexOf('## Losing a Proxmox node'), text.indexOf('## Validation procedures'));

describe.each(loadSites().map((site) => [site.name, site] as const))('seed site %s: every Proxmox node', (_, site) => {
  const controlPlane = [HostRole.K3S_SERVER, HostRole.CONTROL_PLANE];

  test('rows in proxmox.nodes order, each with the hosts on that node in site order', () => {
    const losses = proxmoxNodeLosses(site);
    expect(losses.map((l) => l.node)).toEqual([...site.proxmox.nodes]);
    for (const loss of losses) {
      expect(loss.hosts.map((h: HostPlan) => h.name)).toEqual(site.hosts.filter((h) => h.proxmoxNode === loss.node).map((h) => h.name));
    }
  });

  test.each(site.proxmox.nodes.map((node) => [node]))('%s: load balancers, servers, etcd, datastore and DNS left match a count by role', (node) => {
    const loss = lossOf(site, node);
    const balancers = count(site, node, HostRole.LOAD_BALANCER);
    if (balancers.of > 0) {
      expect(loss.api.loadBalancers).toEqual(balancers);
    } else {
      expect(loss.api.loadBalancers).toBeUndefined();
    }
    const servers = count(site, node, ...controlPlane);
    expect(loss.api.servers).toEqual(servers);
    // The ingress DaemonSet runs on the control-plane nodes only (required node affinity on the control-plane label).
    expect(loss.ingress.controllers).toEqual(servers);
    if (site.postgres) {
      expect(loss.clusterEtcd).toBeUndefined();
      const members = site.postgres.etcdMembers.map((m) => site.hosts.find((h) => h.name === m.name)!);
      const left = members.filter((h) => h.proxmoxNode !== node).length;
      expect(loss.datastore!.etcd).toEqual({ left, of: members.length, needed: majority(members.length) });
      expect(loss.datastore!.nodes).toEqual(count(site, node, HostRole.DATASTORE));
      expect(loss.datastore!.leaderPossible).toBe(count(site, node, HostRole.DATASTORE).left > 0 && left >= majority(members.length));
    } else {
      expect(loss.datastore).toBeUndefined();
      expect(loss.clusterEtcd).toEqual({ ...servers, needed: majority(servers.of) });
    }
    if (site.dns) {
      expect(loss.dns!.servers).toEqual(count(site, node, HostRole.DNS));
    } else {
      expect(loss.dns).toBeUndefined();
    }
  });

  test('the site page has one row per node, with its hosts and verdict', () => {
    const text = readFileSync(resolve(docsDir, `${site.name}.md`), 'utf8');
    expect(section(text)).toContain('| Proxmox node | hosts on it | API | etcd / datastore | ingress | DNS | verdict |');
    for (const node of site.proxmox.nodes) {
      const row = tableRow(section(text), node);
      expect(row).toContain(`| ${node} | ${site.hosts.filter((h) => h.proxmoxNode === node).map((h) => h.name).join(', ')} |`);
      expect(row).toMatch(new RegExp(`\\| (\\*\\*)?${lossOf(site, node).verdict}`));
    }
  });
});

describe('the seed sites\' verdicts', () => {
  test('homelab: pve1 holds pg-node-1, the witness cp1 and cp3, so its loss stops the datastore and the API', () => {
    const plan = sites.homelab;
    expect(plan.postgres!.witness!.name).toBe('cp1');
    expect(plan.hosts.filter((h) => h.proxmoxNode === 'pve1').map((h) => h.name)).toEqual(['pg-node-1', 'cp1', 'cp3']);
    const pve1 = lossOf(plan, 'pve1');
    expect(pve1.verdict).toBe(NodeLossVerdict.OUTAGE);
    expect(pve1.datastore).toMatchObject({ etcd: { left: 1, of: 3, needed: 2 }, leaderPossible: false, serving: false });
    expect(causes(pve1)).toEqual([`${SiteService.DATASTORE}/${StopCause.DATASTORE_ETCD}`, `${SiteService.API}/${StopCause.DATASTORE_STOPPED}`]);
    // The VIP and one server survive: the API stops only because its datastore does.
    expect(pve1.api).toMatchObject({ endpointUp: true, servers: { left: 1, of: 3 }, serving: false });
    expect(nodeWarnings(plan)).toEqual([
      'hosts: losing Proxmox node "pve1" stops the datastore and the API: the datastore\'s etcd keeps 1 of 3 members, 2 needed for quorum, '
        + 'so Patroni demotes the primary and elects no leader (on it: pg-node-1, the witness cp1)',
    ]);
  });

  test('homelab: pve2 leaves the VIP and PostgreSQL on pg-node-1 alone, without a synchronous standby: degraded', () => {
    const pve2 = lossOf(sites.homelab, 'pve2');
    expect(pve2.verdict).toBe(NodeLossVerdict.DEGRADED);
    expect(pve2.datastore).toMatchObject({ etcd: { left: 2, needed: 2 }, leaderPossible: true, synchronousStandbyLeft: false, serving: true });
    expect(pve2.degradations).toEqual([
      'the VIP: one host left (pg-node-1)',
      'the datastore: one PostgreSQL node left (pg-node-1), no synchronous standby, no failover',
    ]);
  });

  test('prod (3 load balancers and 3 servers, one of each per node) survives every node', () => {
    expect(verdicts(sites.prod)).toEqual({ pve1: 'survives', pve2: 'survives', pve3: 'survives' });
    expect(nodeWarnings(sites.prod)).toEqual([]);
  });

  test('lab: Bind9 runs on pve1 and pve2 only, so losing either leaves one DNS server; pve3 survives', () => {
    expect(verdicts(sites.lab)).toEqual({ pve1: 'degraded', pve2: 'degraded', pve3: 'survives' });
    expect(lossOf(sites.lab, 'pve1').degradations).toEqual(['DNS: one host left (lx-k3s-agent-02)']);
    expect(lossOf(sites.lab, 'pve3').dns).toEqual({ servers: { left: 2, of: 2 }, serving: true });
  });

  test('kubeadm-stacked: the single load balancer on pve1 is the endpoint; its single-host warning covers it, no node warning', () => {
    const pve1 = lossOf(sites['kubeadm-stacked'], 'pve1');
    expect(pve1.verdict).toBe(NodeLossVerdict.OUTAGE);
    expect(pve1.api).toMatchObject({ endpointHost: 'haproxy', endpointUp: false });
    expect(causes(pve1)).toEqual([`${SiteService.API}/${StopCause.API_ENDPOINT}`]);
    expect(pve1.clusterEtcd).toEqual({ left: 2, of: 3, needed: 2 });
    expect(verdicts(sites['kubeadm-stacked'])).toEqual({ pve1: 'outage', pve2: 'survives', pve3: 'survives' });
    expect(nodeWarnings(sites['kubeadm-stacked'])).toEqual([]);
  });

  test('kubeadm-multi: 2 stacked etcd members, so either node stops the API (already warned: tolerate no failure)', () => {
    expect(verdicts(sites['kubeadm-multi'])).toEqual({ pve1: 'outage', pve2: 'outage' });
    expect(causes(lossOf(sites['kubeadm-multi'], 'pve2'))).toEqual([`${SiteService.API}/${StopCause.CLUSTER_ETCD}`]);
    expect(nodeWarnings(sites['kubeadm-multi'])).toEqual([]);
  });
});

describe('hand-built sites', () => {
  const server = (name: string, ip: string, vmId: number, proxmoxNode: string, roles: HostRole[]) => ({ name, ip, vmId, proxmoxNode, roles });

  test('three nodes, each with a server, a load balancer and a DNS server: survives every node', () => {
    const plan = defineSite({
      ...labSpec,
      name: 'spread',
      hosts: ['pve1', 'pve2', 'pve3'].map((node, i) => server(`node-${i + 1}`, `192.168.168.${111 + i}`, 111 + i, node,
        [HostRole.K3S_SERVER, HostRole.LOAD_BALANCER, HostRole.DNS])),
    });
    expect(verdicts(plan)).toEqual({ pve1: 'survives', pve2: 'survives', pve3: 'survives' });
    expect(lossOf(plan, 'pve2').dns).toEqual({ servers: { left: 2, of: 3 }, serving: true });
    expect(nodeWarnings(plan)).toEqual([]);
  });

  test('2 of 3 embedded etcd members on one node: that node is an outage, named with the members on it', () => {
    const plan = defineSite({ ...prodSpec, hosts: prodSpec.hosts.map((h) => (h.name === 'k3s-prod-cp-02' ? { ...h, proxmoxNode: 'pve1' } : h)) });
    const pve1 = lossOf(plan, 'pve1');
    expect(pve1.clusterEtcd).toEqual({ left: 1, of: 3, needed: 2 });
    expect(causes(pve1)).toEqual([`${SiteService.API}/${StopCause.CLUSTER_ETCD}`]);
    expect(verdicts(plan)).toEqual({ pve1: 'outage', pve2: 'survives', pve3: 'survives' });
    expect(nodeWarnings(plan)).toEqual([
      'hosts: losing Proxmox node "pve1" stops the API: embedded etcd keeps 1 of 3 members, 2 needed for quorum (on it: k3s-prod-cp-01, k3s-prod-cp-02)',
    ]);
    expect(tableRow(renderSiteDocument(plan), 'pve1')).toContain('**quorum lost**: embedded etcd 1 of 3 members, 2 needed');
  });

  test('a decommissioned server is no etcd member: 3 voters left, not 4', () => {
    const plan = defineSite({
      ...prodSpec,
      hosts: [...prodSpec.hosts, { name: 'k3s-prod-cp-04', ip: '192.168.0.204', vmId: 204, proxmoxNode: 'pve1', roles: [HostRole.K3S_SERVER], decommission: true }],
      // Validation counts the leaving server among the four (it is still a member until decommissioned).
      controlPlane: { ...prodSpec.controlPlane, allowEvenServerCount: true },
    });
    expect(lossOf(plan, 'pve1').clusterEtcd).toEqual({ left: 2, of: 3, needed: 2 });
    expect(lossOf(plan, 'pve1').verdict).toBe(NodeLossVerdict.SURVIVES);
    expect(tableRow(renderSiteDocument(plan), 'pve1')).toContain('| k3s-prod-lb-01, k3s-prod-cp-01, k3s-prod-cp-04 (decommissioned) |');
  });

  describe('PostgreSQL: the witness beside a datastore node', () => {
    const threeNodes: SiteSpec = {
      ...homelabSpec,
      proxmox: { ...homelabSpec.proxmox, nodes: ['pve1', 'pve2', 'pve3'] },
      hosts: homelabSpec.hosts.map((h) => (h.name === 'cp3' ? { ...h, proxmoxNode: 'pve3' } : h)),
    };

    test('witness cp1 with pg-node-1 on pve1: pve1 stops the datastore; pve3 (a server only) survives', () => {
      const plan = defineSite(threeNodes);
      expect(verdicts(plan)).toEqual({ pve1: 'outage', pve2: 'degraded', pve3: 'survives' });
      expect(nodeWarnings(plan)).toHaveLength(1);
      expect(nodeWarnings(plan)[0]).toContain('losing Proxmox node "pve1" stops the datastore and the API');
      expect(tableRow(renderSiteDocument(plan), 'pve1')).toContain('**stops**: datastore etcd 1 of 3 members, 2 needed; PostgreSQL 1 of 2 nodes, Patroni: no leader');
    });

    test('the witness moved to cp3 on pve3: every node keeps the datastore\'s etcd quorum, no warning', () => {
      const plan = defineSite({ ...threeNodes, postgres: { witness: 'cp3' } });
      expect(lossOf(plan, 'pve1').datastore).toMatchObject({ etcd: { left: 2, of: 3, needed: 2 }, leaderPossible: true, serving: true });
      expect(verdicts(plan)).toEqual({ pve1: 'degraded', pve2: 'degraded', pve3: 'survives' });
      expect(nodeWarnings(plan)).toEqual([]);
    });

    test('synchronous_mode_strict: losing a datastore node holds every commit, an outage a single host causes too (no node warning)', () => {
      const plan = defineSite({ ...threeNodes, postgres: { witness: 'cp3', synchronousModeStrict: true } });
      const pve2 = lossOf(plan, 'pve2');
      expect(causes(pve2)).toEqual([`${SiteService.DATASTORE}/${StopCause.SYNCHRONOUS_STANDBY}`, `${SiteService.API}/${StopCause.DATASTORE_STOPPED}`]);
      expect(pve2.datastore).toMatchObject({ leaderPossible: true, synchronousStandbyLeft: false, serving: false });
      expect(nodeWarnings(plan)).toEqual([]);
    });
  });

  test('kubeadm stacked etcd: 2 of 3 control planes on pve3 stop the API there, with a warning naming both', () => {
    const plan = defineSite({
      ...kubeadmStackedSpec,
      hosts: kubeadmStackedSpec.hosts.map((h) => (h.name === 'controlplane2' ? { ...h, proxmoxNode: 'pve3' } : h)),
    });
    const pve3 = lossOf(plan, 'pve3');
    expect(pve3.clusterEtcd).toEqual({ left: 1, of: 3, needed: 2 });
    expect(verdicts(plan)).toEqual({ pve1: 'outage', pve2: 'survives', pve3: 'outage' });
    // pve1's outage is the single load balancer (its own warning); pve3's is the concentration.
    expect(nodeWarnings(plan)).toEqual([
      'hosts: losing Proxmox node "pve3" stops the API: stacked etcd keeps 1 of 3 members, 2 needed for quorum (on it: controlplane2, controlplane3)',
    ]);
  });

  test('no DNS section: no DNS counts, a "-" DNS cell', () => {
    const plan = sites.prod;
    expect(plan.dns).toBeUndefined();
    expect(proxmoxNodeLosses(plan).map((l) => l.dns)).toEqual([undefined, undefined, undefined]);
    expect(tableRow(renderSiteDocument(plan), 'pve1').split(' | ')[5]).toBe('-');
  });

  test('no load balancer: the endpoint is the first server\'s address, so its node stops the API (a single host\'s loss: no node warning)', () => {
    const plan = defineSite({
      ...labSpec,
      apiEndpoint: { ...labSpec.apiEndpoint, vip: undefined, port: 6443 },
      hosts: labSpec.hosts.map((h) => ({ ...h, roles: (h.roles ?? []).filter((role) => role !== HostRole.LOAD_BALANCER) })),
    });
    const pve1 = lossOf(plan, 'pve1');
    expect(pve1.api).toMatchObject({ endpointHost: 'lx-k3s-server-01', endpointUp: false, serving: false });
    expect(pve1.api.loadBalancers).toBeUndefined();
    expect(causes(pve1)).toEqual([`${SiteService.API}/${StopCause.API_ENDPOINT}`]);
    // Without frontends, ingress is the NodePorts on the servers left.
    expect(pve1.ingress).toEqual({ controllers: { left: 2, of: 3 }, serving: true });
    expect(verdicts(plan)).toEqual({ pve1: 'outage', pve2: 'degraded', pve3: 'survives' });
    expect(nodeWarnings(plan)).toEqual([]);
    expect(tableRow(renderSiteDocument(plan), 'pve1')).toContain('**stops**: endpoint lx-k3s-server-01 lost, 2 of 3 k3s servers');
  });

  test('both Bind9 servers on one node: an outage of DNS there, in the table, but no API or datastore warning', () => {
    const plan = defineSite({ ...labSpec, hosts: labSpec.hosts.map((h) => (h.name === 'lx-k3s-agent-02' ? { ...h, proxmoxNode: 'pve1' } : h)) });
    const pve1 = lossOf(plan, 'pve1');
    expect(pve1.dns).toEqual({ servers: { left: 0, of: 2 }, serving: false });
    expect(causes(pve1)).toEqual([`${SiteService.DNS}/${StopCause.DNS_SERVERS}`]);
    expect(pve1.api.serving).toBe(true);
    expect(nodeWarnings(plan)).toEqual([]);
    expect(tableRow(renderSiteDocument(plan), 'pve1')).toContain('| **stops**: 0 of 2 Bind9 servers | **outage**: DNS (no Bind9 server left) |');
  });

  test('every load balancer on one node takes the API endpoint down there, and ingress with it', () => {
    const plan = defineSite({ ...prodSpec, hosts: prodSpec.hosts.map((h) => (h.roles?.includes(HostRole.LOAD_BALANCER) ? { ...h, proxmoxNode: 'pve2' } : h)) });
    const pve2 = lossOf(plan, 'pve2');
    expect(pve2.api).toMatchObject({ loadBalancers: { left: 0, of: 3 }, endpointUp: false, serving: false });
    expect(pve2.ingress.serving).toBe(false);
    expect(nodeWarnings(plan)).toEqual([
      'hosts: losing Proxmox node "pve2" stops the API: no load balancer left to hold the VIP 192.168.0.210 (on it: k3s-prod-lb-01, k3s-prod-lb-02, k3s-prod-lb-03)',
    ]);
  });
});
