import { NodeLossVerdict, ProxmoxNodeLoss, Remaining, SiteService, proxmoxNodeLosses, serverNoun } from '../site/node-loss';
import { HostPlan, SitePlan, applicationDomain, controlPlaneHosts, hostsWithRole, workerHosts } from '../site/plan';
import { DatastoreKind, Distribution, HostKind, HostRole } from '../site/spec';
import { dnsResolverWarning } from './bind9';
import { renderBackupSection } from './etcd-backup';
import { API_HEALTH_CHECK_INTERVALS, K3S_API_SERVER_PORT, apiHealthCheckTimes } from './haproxy';
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, K3S_DATASTORE_CA_PATH, PATRONI_API_PORT, PATRONI_CONFIG_PATH } from './postgres';
import { renderAlertSection } from '../monitoring/alert-table';

/** Where kubeadm's kubelet reads the static pod manifests of the control plane. */
const KUBEADM_STATIC_POD_DIR = '/etc/kubernetes/manifests';

const mermaidId = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

function ports(plan: SitePlan, host: HostPlan): string {
  const list: string[] = [];
  if (host.roles.includes(HostRole.LOAD_BALANCER)) {
    list.push(`${plan.apiEndpoint.port} (API)`);
    if (plan.loadBalancer?.ingressFrontends) {
      list.push('80, 443 (ingress)');
    }
    list.push(`${plan.loadBalancer!.statsPort} (stats)`);
  }
  if (host.roles.includes(HostRole.K3S_SERVER) || host.roles.includes(HostRole.CONTROL_PLANE)) {
    list.push(`${K3S_API_SERVER_PORT} (${plan.controlPlane.distribution === Distribution.KUBEADM ? 'kube-apiserver' : 'K3s'})`);
  }
  if (host.roles.includes(HostRole.DATASTORE) && plan.postgres) {
    list.push(`${plan.postgres.port} (PostgreSQL)`, `${PATRONI_API_PORT} (Patroni)`);
  }
  if (plan.postgres?.etcdMembers.some((member) => member.name === host.name)) {
    list.push(`${ETCD_CLIENT_PORT}, ${ETCD_PEER_PORT} (datastore etcd${plan.postgres.witness?.name === host.name ? ' witness' : ''})`);
  }
  if (host.roles.includes(HostRole.DNS)) {
    list.push('53 (DNS)');
  }
  return list.join(', ') || '-';
}

function diagram(plan: SitePlan): string {
  const lines = ['flowchart TB', `  clients([kubectl, nodes, browsers]) --> endpoint{{"${plan.apiEndpoint.floating ? 'VIP' : 'endpoint'} ${plan.apiEndpoint.address}:${plan.apiEndpoint.port}<br/>${plan.apiEndpoint.dnsName}"}}`];
  for (const host of plan.hosts) {
    lines.push(`  ${mermaidId(host.name)}["${host.name}<br/>${host.ip}<br/>${host.roles.join(', ')}${host.kind === HostKind.LXC ? ' (LXC)' : ''}"]`);
  }
  const balancers = hostsWithRole(plan, HostRole.LOAD_BALANCER);
  const servers = controlPlaneHosts(plan);
  (balancers.length > 0 ? balancers : servers.slice(0, 1)).forEach((lb) => lines.push(`  endpoint --> ${mermaidId(lb.name)}`));
  for (const lb of balancers) {
    servers.forEach((server) => lb.name !== server.name && lines.push(`  ${mermaidId(lb.name)} -- ${K3S_API_SERVER_PORT} --> ${mermaidId(server.name)}`));
  }
  for (const agent of workerHosts(plan)) {
    lines.push(`  ${mermaidId(agent.name)} -. joins via endpoint .-> endpoint`);
  }
  if (plan.postgres) {
    servers.forEach((server) => lines.push(`  ${mermaidId(server.name)} -. datastore via writer endpoint :${plan.postgres!.writerPort} .-> endpoint`));
  }
  return lines.join('\n');
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(2))} s`;

/** The warnings of the page: the plan's, and the DNS zone's resolver finding (which `DnsZone` annotates). */
function pageWarnings(plan: SitePlan): { path: string; message: string }[] {
  const resolver = dnsResolverWarning(plan);
  return [...plan.warnings, ...(resolver ? [{ path: 'network.dnsServers', message: resolver }] : [])];
}

/** Members of the control plane's etcd: one per control-plane node on embedded/stacked etcd, none otherwise. */
function etcdMembers(plan: SitePlan): number {
  return plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD ? controlPlaneHosts(plan).length : 0;
}

/** etcd keeps quorum (a majority) when one of `members` fails: 3 or more. */
const survivesOneLoss = (members: number) => members - 1 > members / 2;

/** What the stats page shows, with the times HAProxy's check settings give. */
function statsPageLine(plan: SitePlan, server: string): string {
  const lb = plan.loadBalancer;
  if (!lb) {
    return '';
  }
  const { downMs, upMs } = apiHealthCheckTimes(lb);
  const { interMs, fastinterMs, downinterMs } = API_HEALTH_CHECK_INTERVALS;
  return ` The HAProxy stats page (\`http://<load balancer>:${lb.statsPort}/\`, user admin, password from \`terraform output -raw haproxy_stats_password\`) `
    + `shows ${server} DOWN within about ${seconds(downMs)} (the first failed check within inter ${seconds(interMs)}, then ${lb.healthCheckFall - 1} more `
    + `${seconds(fastinterMs)} apart: fall ${lb.healthCheckFall}), and UP again about ${seconds(upMs)} after its API server answers `
    + `(downinter ${seconds(downinterMs)}, then ${lb.healthCheckRise - 1} more ${seconds(fastinterMs)} apart: rise ${lb.healthCheckRise}).`;
}

/**
 * Step 3: stop one API server and watch the endpoint. On kubeadm the API server is a static pod: stopping the
 * kubelet or CRI-O leaves it running (CRI-O's containers outlive both), so its manifest is moved out of the folder the
 * kubelet watches, which leaves that node's etcd member up. On K3s, stopping the service stops the node's API server
 * and its embedded etcd member together, so fewer than 3 members lose quorum.
 */
function apiAvailabilityStep(plan: SitePlan, endpoint: string): string {
  const servers = controlPlaneHosts(plan);
  const first = servers[0].name;
  const others = servers.slice(1).map((s) => s.name).join(', ');
  const members = etcdMembers(plan);
  if (plan.controlPlane.distribution === Distribution.KUBEADM) {
    const stop = `on ${first}, move its API server's static pod manifest out of the folder the kubelet watches `
      + `(\`mv ${KUBEADM_STATIC_POD_DIR}/kube-apiserver.yaml /etc/kubernetes/\`); the kubelet stops the pod, while ${first}'s etcd member keeps running. `
      + `(\`systemctl stop kubelet crio\` would not do it: CRI-O's containers keep running without either.)`;
    const restore = `Move it back (\`mv /etc/kubernetes/kube-apiserver.yaml ${KUBEADM_STATIC_POD_DIR}/\`) and the kubelet starts the API server again.`;
    const effect = servers.length > 1
      ? `\`kubectl get nodes\` through ${endpoint} keeps working, served by ${others}.`
      : `with a single control plane the API is unavailable until the API server is back (expected).`;
    return `3. **API server failover:** ${stop} ${effect}${statsPageLine(plan, first)} ${restore}`;
  }
  const stop = `stop K3s on ${first} (\`systemctl stop k3s\`: its API server${members > 0 ? ' and its embedded etcd member' : ''})`;
  const restore = `Start it again with \`systemctl start k3s\`.`;
  if (members > 0 && !survivesOneLoss(members)) {
    return `3. **API availability:** ${stop}. With ${members} etcd member${members === 1 ? '' : 's'}, etcd loses quorum, so the API becomes unavailable through ${endpoint} `
      + `on every server (expected: see the warnings; 3 members tolerate one failure). ${restore} The API answers again once ${first}'s etcd member has rejoined.`;
  }
  if (servers.length < 2) {
    return `3. **API availability:** ${stop}; with a single server the API is unavailable until it is back (expected). ${restore}`;
  }
  return `3. **API high availability:** ${stop}; \`kubectl get nodes\` through ${endpoint} keeps working, served by ${others}.${statsPageLine(plan, first)} ${restore}`;
}

/** Step 4: the datastore; on kubeadm, losing a whole control-plane node, which takes its etcd member along. */
function datastoreStep(plan: SitePlan): string {
  const servers = controlPlaneHosts(plan);
  const first = servers[0];
  const members = etcdMembers(plan);
  if (plan.controlPlane.distribution === Distribution.KUBEADM) {
    const lose = `shut ${first.name} down (\`poweroff\` on it, or \`qm shutdown ${first.vmId}\` on ${first.proxmoxNode})`;
    const outcome = survivesOneLoss(members)
      ? `${members - 1} of ${members} members keep quorum, so \`kubectl get nodes\` keeps working and lists ${first.name} NotReady. Start it again (\`qm start ${first.vmId}\` on ${first.proxmoxNode}) and its member rejoins.`
      : `with ${members} stacked etcd member${members === 1 ? '' : 's'} etcd loses quorum, so the API becomes unavailable on every control plane (expected: see the warnings; 3 members tolerate one failure). `
        + `Start ${first.name} again (\`qm start ${first.vmId}\` on ${first.proxmoxNode}): the API answers again once its etcd member is back.`;
    return `4. **etcd quorum:** \`kubectl -n kube-system get pods -l component=etcd\` shows ${members} etcd members, one per control-plane node. Then ${lose}: ${outcome}`;
  }
  if (members > 0) {
    return `4. **Datastore:** \`k3s etcd-snapshot list\` on a server shows scheduled snapshots (${plan.controlPlane.etcdSnapshotScheduleCron}, ${plan.controlPlane.etcdSnapshotRetention} kept); with all servers up, etcd has ${members} members.`;
  }
  return `4. **Datastore:** the writer endpoint reaches the primary (${plan.postgres?.tls
    ? `on a server, \`psql "host=<endpoint> port=<writer port> user=k3s dbname=k3s sslmode=verify-full sslrootcert=${K3S_DATASTORE_CA_PATH}" -c "select pg_is_in_recovery()"\``
    : '`psql -h <endpoint> -p <writer port> -U k3s -c "select pg_is_in_recovery()"`'} returns f), and \`patronictl -c ${PATRONI_CONFIG_PATH} list\` on a datastore node shows a Leader and a Sync Standby. Then switch over (\`patronictl -c ${PATRONI_CONFIG_PATH} switchover --force\`): the same psql check answers f again within seconds, from the other node.`;
}

/**
 * Step 5: the demo application through the ingress frontends. Without a zone whose wildcard points at the
 * endpoint, nothing resolves the name, so curl is told the address (`--resolve`).
 */
function ingressStep(plan: SitePlan): string {
  const zone = applicationDomain(plan);
  const host = `nginx.${zone}`;
  const curl = plan.dns?.wildcardToEndpoint
    ? `\`curl -k https://${host}/\` (from a machine that resolves ${zone} through the site's Bind9)`
    : `\`curl -k --resolve ${host}:443:${plan.apiEndpoint.address} https://${host}/\` (the site has no DNS zone${plan.dns ? ' wildcard' : ''} for ${host}, so curl is given the endpoint's address)`;
  return `5. **Application through ingress:** ${curl} answers through the endpoint; stop a server running the ingress controller and it still answers.`;
}

const ofN = (count: Remaining, noun: string) => `${count.left} of ${count.of} ${noun}`;
const serves = (serving: boolean, text: string) => `${serving ? 'serves' : '**stops**'}: ${text}`;

/** The API cell: the endpoint (load balancers left, or the one host it is), then the API servers left. */
function apiCell(plan: SitePlan, loss: ProxmoxNodeLoss): string {
  const endpoint = loss.api.endpointHost
    ? `endpoint ${loss.api.endpointHost} ${loss.api.endpointUp ? 'up' : 'lost'}`
    : `VIP on ${ofN(loss.api.loadBalancers!, 'load balancers')}`;
  return serves(loss.api.serving, `${endpoint}, ${ofN(loss.api.servers, serverNoun(plan))}`);
}

/** The etcd / datastore cell: the cluster's etcd quorum, or the datastore's etcd quorum and Patroni. */
function quorumCell(plan: SitePlan, loss: ProxmoxNodeLoss): string {
  if (loss.clusterEtcd) {
    const kind = plan.controlPlane.distribution === Distribution.KUBEADM ? 'stacked' : 'embedded';
    const kept = loss.clusterEtcd.left >= loss.clusterEtcd.needed;
    return `${kept ? 'quorum kept' : '**quorum lost**'}: ${kind} etcd ${ofN(loss.clusterEtcd, 'members')}, ${loss.clusterEtcd.needed} needed`;
  }
  if (loss.datastore) {
    const { etcd, nodes, leaderPossible, synchronousStandbyLeft, serving } = loss.datastore;
    const patroni = !leaderPossible ? 'no leader' : synchronousStandbyLeft ? 'a leader and a synchronous standby' : 'a leader, no synchronous standby';
    return serves(serving, `datastore etcd ${ofN(etcd, 'members')}, ${etcd.needed} needed; PostgreSQL ${ofN(nodes, 'nodes')}, Patroni: ${patroni}`);
  }
  return '-';
}

function ingressCell(loss: ProxmoxNodeLoss): string {
  const { controllers, frontends, serving } = loss.ingress;
  return serves(serving, `${ofN(controllers, 'controllers')}${frontends ? `, 80/443 on ${ofN(frontends, 'load balancers')}` : ' (NodePorts)'}`);
}

function verdictCell(loss: ProxmoxNodeLoss): string {
  if (loss.verdict === NodeLossVerdict.OUTAGE) {
    const services = [...new Set(loss.stops.map((stop) => stop.service))];
    return `**outage**: ${services.map((service) => `${service} (${loss.stops.filter((s) => s.service === service).map((s) => s.reason).join('; ')})`).join(', ')}`;
  }
  return loss.verdict === NodeLossVerdict.DEGRADED ? `degraded: ${loss.degradations.join('; ')}` : 'survives';
}

/** "Losing a Proxmox node": one row per Proxmox node, what its loss leaves of each service. */
function nodeLossSection(plan: SitePlan): string[] {
  return [
    '## Losing a Proxmox node',
    '',
    `What stops when a Proxmox node goes down with every host on it. *degraded*: everything still serves, but a service is on its last host; *outage*: a service stops (${Object.values(SiteService).join(', ')}).`,
    '',
    '| Proxmox node | hosts on it | API | etcd / datastore | ingress | DNS | verdict |',
    '|---|---|---|---|---|---|---|',
    ...proxmoxNodeLosses(plan).map((loss) => `| ${loss.node} | ${loss.hosts.map((h) => `${h.name}${h.decommission ? ' (decommissioned)' : ''}`).join(', ') || '-'} `
      + `| ${apiCell(plan, loss)} | ${quorumCell(plan, loss)} | ${ingressCell(loss)} | ${loss.dns ? serves(loss.dns.serving, ofN(loss.dns.servers, 'Bind9 servers')) : '-'} | ${verdictCell(loss)} |`),
    '',
  ];
}

/**
 * A Markdown page for one site, generated from the plan: topology diagram, hosts with roles, addresses and ports,
 * the API endpoint and DNS names, the warnings, and the validation steps of seed 002 adapted to the site.
 */
export function renderSiteDocument(plan: SitePlan): string {
  const servers = controlPlaneHosts(plan);
  const agents = workerHosts(plan);
  const kubeadm = plan.controlPlane.distribution === Distribution.KUBEADM;
  const balancers = hostsWithRole(plan, HostRole.LOAD_BALANCER);
  const endpoint = `${plan.apiEndpoint.address}:${plan.apiEndpoint.port}`;
  const embedded = plan.controlPlane.datastore === DatastoreKind.EMBEDDED_ETCD;
  const warnings = pageWarnings(plan);
  const sections = [
    `# Site \`${plan.name}\``,
    '',
    `<!-- Generated by proxmox-k3s-ha from sites/${plan.name}.ts (npm run docs); do not edit by hand. -->`,
    '',
    plan.description ?? '',
    '',
    '## Topology',
    '',
    '```mermaid',
    diagram(plan),
    '```',
    '',
    '## Hosts',
    '',
    '| host | address | roles | kind | Proxmox node | VM id | size | ports |',
    '|---|---|---|---|---|---|---|---|',
    ...plan.hosts.map((h) => `| ${h.name} | ${h.ip} | ${h.roles.join(', ')} | ${h.kind} | ${h.proxmoxNode} | ${h.vmId} | ${h.size.cores} vCPU, ${h.size.memoryMiB} MiB, ${h.size.diskGiB} GB | ${ports(plan, h)} |`),
    '',
    '## Endpoints and names',
    '',
    `- Kubernetes API: \`${plan.apiEndpoint.url}\` (${plan.apiEndpoint.floating ? `VIP ${plan.apiEndpoint.address}, held by Keepalived on ${balancers.map((b) => b.name).join(', ')}` : `address ${plan.apiEndpoint.address}, no VIP`})`,
    `- Network ${plan.network.cidr}, gateway ${plan.network.gateway}, zone \`${plan.network.searchDomain}\``,
    ...(plan.loadBalancer?.ingressFrontends ? [`- Ingress: ports 80/443 on the endpoint → NodePorts ${plan.ingress.httpNodePort}/${plan.ingress.httpsNodePort} on the servers`] : []),
    ...(plan.loadBalancer && plan.apiEndpoint.floating ? [`- VRRP: router id ${plan.loadBalancer.vrrpRouterId}, version ${plan.loadBalancer.vrrpVersion}, priorities ${plan.loadBalancer.nodes.map((n) => `${n.name} ${n.priority}`).join(', ')}`] : []),
    `- ${kubeadm ? `kubeadm with Kubernetes ${plan.versions.kubernetes} and CRI-O ${plan.versions.crio}` : `K3s ${plan.versions.k3s}`}, ${servers.length} ${kubeadm ? 'control plane(s)' : 'server(s)'} on ${embedded ? (kubeadm ? 'stacked etcd' : 'embedded etcd') : `PostgreSQL (${plan.postgres?.nodes.map((n) => n.name).join(', ')}; ${plan.postgres?.tls ? 'TLS, K3s verifies the datastore CA' : 'no TLS: plain-text datastore traffic'})`}, ${agents.length} ${kubeadm ? 'worker(s)' : 'agent(s)'}; CNI ${plan.cluster.cni}${plan.cluster.kubeProxyReplacement ? ' (kube-proxy replacement)' : ''}, pods ${plan.cluster.podCidr}, services ${plan.cluster.serviceCidr}`,
    ...(plan.dns ? [`- DNS: Bind9 on ${plan.dns.servers.map((s) => `${s.name} (${s.ip})`).join(', ')}, zone \`${plan.dns.zone}\`${plan.dns.wildcardToEndpoint ? `, \`*.${plan.dns.zone}\` → ${plan.apiEndpoint.address}` : ''}`] : []),
    '',
    '## Warnings',
    '',
    ...(warnings.length > 0 ? warnings.map((w) => `- \`${w.path}\`: ${w.message}`) : ['None.']),
    '',
    ...nodeLossSection(plan),
    ...renderBackupSection(plan),
    ...renderAlertSection(plan),
    '## Validation procedures',
    '',
    '1. **API through the endpoint:** `kubectl --kubeconfig ' + `${plan.name}.kubeconfig get nodes -o wide\` lists ${servers.length + agents.length} Ready nodes (${servers.length} control-plane). Fetch the kubeconfig with \`terraform output -raw kubeconfig_command | sh\`.`,
    ...(plan.apiEndpoint.floating ? [
      `2. **VIP failover:** find the holder with \`ip -br addr | grep ${plan.apiEndpoint.address}\` on ${balancers.map((b) => b.name).join(', ')}; stop Keepalived there (\`systemctl stop keepalived\`); the VIP moves to the next priority within about a second while \`kubectl get nodes\` keeps answering; start it again and note whether the VIP returns (preemption).`,
    ] : [`2. **No VIP:** the endpoint ${endpoint} is a single point of failure; stopping it stops the API for clients${kubeadm ? ' and for kubelets, which reach the API through it' : ' (agents keep their node-local load balancer)'}.`]),
    apiAvailabilityStep(plan, endpoint),
    datastoreStep(plan),
    ...(plan.loadBalancer?.ingressFrontends ? [ingressStep(plan)] : []),
    '',
  ];
  return sections.join('\n');
}
