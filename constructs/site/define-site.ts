import { ProblemCollector, ValidationError } from '../core/problems';
import {
  DEFAULT_ADMIN_USER, DEFAULT_API_PORT, DEFAULT_CLUSTER_DOMAIN, DEFAULT_CRIO_VERSION, DEFAULT_HTTPS_NODE_PORT, DEFAULT_HTTP_NODE_PORT, DEFAULT_K3S_VERSION, DEFAULT_KUBERNETES_VERSION,
  DEFAULT_LXC_OS_TYPE, DEFAULT_POD_CIDR, DEFAULT_POSTGRES_FAILOVER, DEFAULT_SERVICE_CIDR, DEFAULT_SSH_USER, DEFAULT_STATS_PORT, DEFAULT_TIMEZONE, DEFAULT_VRRP_ROUTER_ID,
  LOAD_BALANCER_HEALTH_PORT, defaultCniFor, defaultSizeFor, defaultVrrpPriorities,
} from './defaults';
import { DownloadPlan, HostPlan, LoadBalancerPlan, SitePlan, controlPlaneHosts, hostsWithRole } from './plan';
import { ApiHealthCheck, ChecksumAlgorithm, CniKind, DatastoreKind, Distribution, DownloadSpec, HostKind, HostRole, HostSpec, SiteSpec, VrrpVersion } from './spec';
import { validateCluster, validateIngress } from './validate/cluster';
import { validateLoadBalancer } from './validate/load-balancer';
import { validateControlPlane } from './validate/control-plane';
import { defaultDatastoreWitness } from './validate/postgres';
import { validateDecommission } from './validate/decommission';
import { validateDns } from './validate/dns';
import { validateMonitoring } from './validate/monitoring';
import { validateBackup } from './validate/backup';
import { resolveBackupEntry } from './backup';
import { validateDerivedNames } from './validate/names';
import { validatePorts } from './validate/ports';
import { validateApiEndpoint } from './validate/endpoint';
import { validateHosts } from './validate/hosts';
import { validateAccess, validateHealthCheckVersion, validateName, validateVersions } from './validate/misc';
import { validateNetwork } from './validate/network';
import { parseBastion, validateRollout } from './validate/rollout';
import { validateProxmox } from './validate/proxmox';
import { validateSharedProxmox } from './validate/shared-cluster';
import { hostPaths, withHostPath } from './validate/host-paths';
import { SiteInput, readSiteInput, readSiteList } from './validate/input';
import { isObject, reportDuplicates, reportUnknownKeys } from './validate/shape';
import { siteWarnings } from './warnings';
import { Ipv4Cidr } from '../core/ipv4';

/**
 * Validates a site and resolves it into a frozen {@link SitePlan}.
 *
 * The description is read once into plain data (validate/input.ts): values no site file should hold (a BigInt, a
 * cycle, a hole in a list, a getter that throws) are problems like any other, never a crash. Every problem is
 * collected before anything is thrown, so one error lists them all as `path: value — what was expected`, a host
 * named by its name where it has a valid one (`hosts[cp2].roles`); nothing is synthesized from an invalid site.
 *
 * @throws ValidationError naming every problem
 */
export function defineSite(spec: SiteSpec): SitePlan {
  return planFromInput(readSiteInput(spec));
}

/** The name of a site read into plain data, for messages. */
function siteNameOf(input: unknown): string | undefined {
  return isObject(input) && typeof input.name === 'string' ? input.name : undefined;
}

function planFromInput(read: SiteInput): SitePlan {
  const problems = new ProblemCollector();
  const input = read.value;
  const paths = hostPaths(isObject(input) ? input.hosts : undefined);
  for (const problem of read.problems) {
    const path = withHostPath(problem.path, paths);
    if (problem.final) {
      problems.addFinal(path, problem.value, problem.expected);
    } else {
      problems.add(path, problem.value, problem.expected);
    }
  }
  const subject = `site ${JSON.stringify(siteNameOf(input) ?? '(unnamed)')}`;
  if (!isObject(input)) {
    problems.add('(site)', input, 'a site specification object');
  }
  if (read.tooLarge || !isObject(input)) {
    // Nothing more can be checked (a description larger than any site is reported once, not field by field).
    problems.throwIfAny(subject);
  }
  const site = input as Record<string, unknown>;
  validateSite(problems, site);
  problems.throwIfAny(subject);
  return deepFreeze(resolvePlan(site as unknown as SiteSpec, Ipv4Cidr.tryParse((site.network as Record<string, unknown>).cidr)!));
}

/** Every check of a site read into plain data; the problems go to `problems`. */
function validateSite(problems: ProblemCollector, input: Record<string, unknown>): void {
  validateName(problems, input.name);
  if (input.description !== undefined) {
    problems.check(typeof input.description === 'string', 'description', input.description, 'a string');
  }
  reportUnknownKeys(problems, '', input, ['name', 'description', 'network', 'proxmox', 'hosts', 'apiEndpoint', 'versions', 'access', 'rollout', 'cluster', 'ingress', 'loadBalancer', 'controlPlane', 'postgres', 'dns', 'monitoring', 'backup']);
  const network = isObject(input.network) ? input.network : undefined;
  const controlPlane = isObject(input.controlPlane) ? input.controlPlane : undefined;
  const cidr = validateNetwork(problems, input.network);
  const proxmoxNodes = validateProxmox(problems, input.proxmox);
  const entries = validateHosts(problems, input.hosts, { cidr, gateway: network?.gateway, proxmoxNodes });
  const hosts = entries.map((entry) => entry.host);
  validateApiEndpoint(problems, input.apiEndpoint, { cidr, gateway: network?.gateway, hosts, searchDomain: network?.searchDomain });
  validateVersions(problems, input.versions, controlPlane?.distribution === Distribution.KUBEADM);
  validateHealthCheckVersion(problems, input);
  validateAccess(problems, input.access);
  validateRollout(problems, input.rollout);
  validateCluster(problems, input.cluster, cidr, controlPlane?.distribution);
  validateIngress(problems, input.ingress);
  validateLoadBalancer(problems, input.loadBalancer, hosts);
  validateControlPlane(problems, input.controlPlane, input.postgres, entries);
  validateDns(problems, input.dns);
  validateMonitoring(problems, input.monitoring);
  validateBackup(problems, input.backup, input);
  validatePorts(problems, input, entries);
  validateDerivedNames(problems, input, entries);
  validateDecommission(problems, input, entries);
  if (hosts.some((host) => host.kind === HostKind.LXC) && isObject(input.proxmox) && input.proxmox.lxcTemplate === undefined) {
    problems.add('proxmox.lxcTemplate', undefined, 'an LXC template, since the site has hosts of kind lxc');
  }
}

/**
 * Validates several sites at once: one error lists the problems of every site (each path prefixed with the
 * site's name), so nothing is synthesized while any site is invalid.
 *
 * @throws ValidationError naming every problem of every site
 */
export function defineSites(specs: readonly SiteSpec[]): SitePlan[] {
  const plans: SitePlan[] = [];
  const problems = new ProblemCollector();
  const list = readSiteList(specs);
  list.problems.forEach((problem) => problems.add(problem.path, problem.value, problem.expected));
  const names: { path: string; value: unknown }[] = [];
  for (const { index, value } of list.entries) {
    const read = readSiteInput(value);
    const name = siteNameOf(read.value);
    names.push({ path: `sites[${index}].name`, value: name });
    try {
      plans.push(planFromInput(read));
    } catch (error) {
      if (!(error instanceof ValidationError)) {
        throw error;
      }
      error.problems.forEach((problem) => problems.add(`${name ?? `sites[${index}]`}: ${problem.path}`, problem.value, problem.expected));
    }
  }
  reportDuplicates(problems, names.filter((name) => name.value !== undefined), 'site name');
  // Two sites on one layer-2 network (same subnet, bridge and VLAN) must not share a VRRP router id.
  const routerIds = plans.filter((plan) => plan.loadBalancer !== undefined).map((plan) => ({
    path: `${plan.name}: loadBalancer.vrrpRouterId`,
    value: `${plan.loadBalancer!.vrrpRouterId} on ${plan.network.cidr} via ${plan.proxmox.bridge}${plan.proxmox.vlanId ? ` vlan ${plan.proxmox.vlanId}` : ''}`,
  }));
  reportDuplicates(problems, routerIds, 'VRRP router id on this layer-2 network');
  validateSharedProxmox(problems, plans);
  problems.throwIfAny(list.entries.length === 1 ? 'the site' : `the list of ${list.entries.length} sites`);
  return plans;
}

function resolveDownload(download: DownloadSpec): DownloadPlan {
  return {
    url: download.url,
    fileName: download.fileName,
    ...(download.checksum ? { checksum: download.checksum.toLowerCase(), checksumAlgorithm: download.checksumAlgorithm ?? ChecksumAlgorithm.SHA256 } : {}),
  };
}

function resolveHost(host: HostSpec, spec: SiteSpec, prefixLength: number): HostPlan {
  const roles = [...new Set(host.roles)];
  const size = defaultSizeFor(roles);
  return {
    name: host.name,
    fqdn: `${host.name}.${spec.network.searchDomain}`,
    ip: host.ip,
    ipCidr: `${host.ip}/${prefixLength}`,
    vmId: host.vmId,
    proxmoxNode: host.proxmoxNode,
    kind: host.kind ?? HostKind.VM,
    roles,
    size: {
      cores: host.size?.cores ?? size.cores,
      memoryMiB: host.size?.memoryMiB ?? size.memoryMiB,
      diskGiB: host.size?.diskGiB ?? size.diskGiB,
    },
    nodeLabels: { ...host.nodeLabels },
    nodeTaints: [...(host.nodeTaints ?? [])],
    generation: host.generation ?? 0,
    decommission: host.decommission ?? false,
    ...(host.sshHostKey ? { sshHostKey: host.sshHostKey } : {}),
  };
}

function resolvePlan(spec: SiteSpec, cidr: Ipv4Cidr): SitePlan {
  const hosts = spec.hosts.map((host) => resolveHost(host, spec, cidr.prefixLength));
  const partial = { hosts, warnings: [] } as unknown as SitePlan;
  const loadBalancers = hostsWithRole(partial, HostRole.LOAD_BALANCER);
  const servers = controlPlaneHosts(partial);
  const address = spec.apiEndpoint.vip ?? (loadBalancers[0] ?? servers[0]).ip;
  const port = spec.apiEndpoint.port ?? DEFAULT_API_PORT;
  const dnsName = spec.apiEndpoint.dnsName ?? `api.${spec.network.searchDomain}`;
  const { lxcTemplate } = spec.proxmox;
  const datastore = spec.controlPlane?.datastore ?? DatastoreKind.EMBEDDED_ETCD;
  const dnsServers = hostsWithRole(partial, HostRole.DNS);
  const distribution = spec.controlPlane?.distribution ?? Distribution.K3S;
  const cni = spec.cluster?.cni ?? defaultCniFor(distribution);
  const plan: Omit<SitePlan, 'warnings'> = {
    name: spec.name,
    ...(spec.description ? { description: spec.description } : {}),
    network: {
      cidr: cidr.toString(),
      prefixLength: cidr.prefixLength,
      gateway: spec.network.gateway,
      dnsServers: [...spec.network.dnsServers],
      searchDomain: spec.network.searchDomain,
      etcHosts: spec.network.etcHosts ?? false,
    },
    proxmox: {
      endpoint: spec.proxmox.endpoint,
      nodes: [...spec.proxmox.nodes],
      bridge: spec.proxmox.bridge,
      ...(spec.proxmox.vlanId !== undefined ? { vlanId: spec.proxmox.vlanId } : {}),
      datastores: { ...spec.proxmox.datastores },
      cloudImage: resolveDownload(spec.proxmox.cloudImage),
      ...(lxcTemplate ? { lxcTemplate: { ...resolveDownload(lxcTemplate), osType: lxcTemplate.osType ?? DEFAULT_LXC_OS_TYPE } } : {}),
      insecureTls: spec.proxmox.insecureTls ?? false,
      sshUser: spec.proxmox.sshUser ?? DEFAULT_SSH_USER,
    },
    hosts,
    apiEndpoint: { address, port, dnsName, floating: spec.apiEndpoint.vip !== undefined, url: `https://${dnsName}:${port}` },
    versions: { k3s: spec.versions?.k3s ?? DEFAULT_K3S_VERSION, kubernetes: spec.versions?.kubernetes ?? DEFAULT_KUBERNETES_VERSION, crio: spec.versions?.crio ?? DEFAULT_CRIO_VERSION, ...(spec.versions?.k3sSha256 ? { k3sSha256: spec.versions.k3sSha256.toLowerCase() } : {}) },
    cluster: {
      podCidr: spec.cluster?.podCidr ?? DEFAULT_POD_CIDR,
      serviceCidr: spec.cluster?.serviceCidr ?? DEFAULT_SERVICE_CIDR,
      clusterDomain: spec.cluster?.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
      cni,
      kubeProxyReplacement: cni === CniKind.CILIUM && (spec.cluster?.kubeProxyReplacement ?? true),
    },
    ingress: {
      httpNodePort: spec.ingress?.httpNodePort ?? DEFAULT_HTTP_NODE_PORT,
      httpsNodePort: spec.ingress?.httpsNodePort ?? DEFAULT_HTTPS_NODE_PORT,
    },
    ...(loadBalancers.length > 0 ? { loadBalancer: resolveLoadBalancer(spec, loadBalancers) } : {}),
    ...(dnsServers.length > 0 ? {
      dns: {
        zone: spec.dns?.zone ?? spec.network.searchDomain,
        wildcardToEndpoint: spec.dns?.wildcardToEndpoint ?? true,
        forwarders: [...(spec.dns?.forwarders ?? [])],
        servers: dnsServers.map((host) => ({ name: host.name, ip: host.ip })),
      },
    } : {}),
    controlPlane: {
      distribution,
      datastore,
      dedicatedServers: spec.controlPlane?.dedicatedServers ?? false,
      etcdSnapshotScheduleCron: spec.controlPlane?.etcdSnapshotScheduleCron ?? '0 */6 * * *',
      etcdSnapshotRetention: spec.controlPlane?.etcdSnapshotRetention ?? 12,
      secretsEncryption: spec.controlPlane?.secretsEncryption ?? true,
      joinApiWaitMinutes: spec.controlPlane?.joinApiWaitMinutes ?? 30,
    },
    ...(datastore === DatastoreKind.POSTGRES ? {
      postgres: {
        version: spec.postgres?.version ?? 16,
        port: spec.postgres?.port ?? 5432,
        writerPort: spec.postgres?.writerPort ?? 5433,
        synchronousCommit: spec.postgres?.synchronousCommit ?? true,
        database: spec.postgres?.database ?? 'k3s',
        user: spec.postgres?.user ?? 'k3s',
        tls: spec.postgres?.tls ?? true,
        nodes: hostsWithRole(partial, HostRole.DATASTORE).map((host) => ({ name: host.name, ip: host.ip })),
        synchronousModeStrict: spec.postgres?.synchronousModeStrict ?? false,
        ...datastoreWitness(spec, hosts),
        failover: { ...DEFAULT_POSTGRES_FAILOVER, ...spec.postgres?.failover },
      },
    } : {}),
    rollout: {
      agentConcurrency: spec.rollout?.agentConcurrency ?? 1,
      allowUnsafeServerRemoval: spec.rollout?.allowUnsafeServerRemoval ?? false,
      ...(spec.rollout?.bastion ? { bastion: parseBastion(spec.rollout.bastion) } : {}),
    },
    monitoring: { enabled: spec.monitoring?.enabled ?? true, ...(spec.monitoring?.receiver ? { receiver: spec.monitoring.receiver } : {}) },
    ...resolveBackupEntry(spec),
    access: {
      adminUser: spec.access?.adminUser ?? DEFAULT_ADMIN_USER,
      sshAuthorizedKeys: [...(spec.access?.sshAuthorizedKeys ?? [])],
      timezone: spec.access?.timezone ?? DEFAULT_TIMEZONE,
      ntpServers: [...(spec.access?.ntpServers ?? [])],
    },
  };
  return { ...plan, warnings: siteWarnings(plan) };
}

function resolveLoadBalancer(spec: SiteSpec, hosts: readonly HostPlan[]): LoadBalancerPlan {
  const lb = spec.loadBalancer ?? {};
  const version = lb.vrrpVersion ?? VrrpVersion.V3;
  const priorities = lb.vrrpPriorities ?? defaultVrrpPriorities(hosts.length);
  return {
    nodes: hosts.map((host, i) => ({ name: host.name, ip: host.ip, priority: priorities[i] })),
    vrrpRouterId: lb.vrrpRouterId ?? DEFAULT_VRRP_ROUTER_ID,
    vrrpVersion: version,
    vrrpAdvertIntervalMs: lb.vrrpAdvertIntervalMs ?? (version === VrrpVersion.V3 ? 250 : 1000),
    vrrpUnicast: !(lb.vrrpMulticast ?? false),
    vrrpAuthentication: lb.vrrpAuthentication ?? false,
    vrrpNopreempt: lb.vrrpNopreempt ?? false,
    vrrpInterface: lb.vrrpInterface ?? 'eth0',
    apiHealthCheck: lb.apiHealthCheck ?? ApiHealthCheck.READYZ,
    statsPort: lb.statsPort ?? DEFAULT_STATS_PORT,
    healthPort: LOAD_BALANCER_HEALTH_PORT,
    ingressFrontends: lb.ingressFrontends ?? true,
    healthCheckFall: lb.healthCheckFall ?? 2,
    healthCheckRise: lb.healthCheckRise ?? 2,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    Object.values(value).forEach(deepFreeze);
  }
  return value;
}

/** The etcd witness and the etcd members (datastore nodes first, then the witness) of a PostgreSQL site. */
function datastoreWitness(spec: SiteSpec, hosts: readonly HostPlan[]): Pick<NonNullable<SitePlan['postgres']>, 'witness' | 'etcdMembers'> {
  const nodes = hosts.filter((host) => host.roles.includes(HostRole.DATASTORE)).map((host) => ({ name: host.name, ip: host.ip }));
  const witnessName = defaultDatastoreWitness(spec.hosts as unknown as Record<string, unknown>[], spec.postgres?.witness);
  const witnessHost = hosts.find((host) => host.name === witnessName);
  const witness = witnessHost ? { name: witnessHost.name, ip: witnessHost.ip } : undefined;
  return { ...(witness ? { witness } : {}), etcdMembers: [...nodes, ...(witness ? [witness] : [])] };
}
