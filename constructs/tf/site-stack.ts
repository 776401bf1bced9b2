import { Annotations, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { applyBaseHost } from '../roles/base-host';
import { applyK3sNodePrerequisites } from '../roles/k3s-node';
import { applyEtcHostsRole } from '../roles/kubeadm';
import { SitePlan, controlPlaneHosts, hasRole } from '../site/plan';
import { CniKind, DatastoreKind, Distribution, HostKind, HostRole } from '../site/spec';
import { RandomProvider } from '@cdktf/provider-random/lib/provider';
import { TlsProvider } from '@cdktf/provider-tls/lib/provider';
import { ProxmoxDownload } from './cloud-image';
import { DnsZone } from './dns-zone';
import { HaLoadBalancerPair } from './ha-load-balancer-pair';
import { EmbeddedEtcdDatastore, K3sAgents, K3sControlPlane } from './k3s-control-plane';
import { KubeadmControlPlane, KubeadmWorkers } from './kubeadm-control-plane';
import { PostgresDatastore } from './postgres-datastore';
import { ProxmoxProvider } from './generated/providers/proxmox/provider';
import { ProxmoxLxc, applyContainerRootKeys } from './proxmox-lxc';
import { ProxmoxVm } from './proxmox-vm';
import {
  ConvergeConnection, HostConverge, ProxmoxApiAccess, addCertificateRenewal, addDatastoreRejoin, addKubeadmJoinPreparation, addNodeLifecycle, convergeDeadlines,
  convergeFacts, guardAgainstUnsafeChanges,
} from './lifecycle';
import { SiteHost } from './site-hosts';
import { ConvergeDeadlines } from '../cloud-init/render-converge';
import { escapeTerraformTemplate } from './terraform-template';
import { rolloutOrder } from '../site/rollout';
import { StateBackendOptions, applyStateBackend } from './state-backend';
import { interpolatedLifecycleEntries } from './lifecycle-references';
import { applySiteBackups, backupCredentialVariables, embeddedEtcdBackupDatastore } from './site-backups';

/** Properties of a {@link SiteStack}. */
export interface SiteStackProps {
  /** The validated site, from `defineSite()`. */
  readonly site: SitePlan;
  /**
   * Manifests for K3s's auto-deploy folder on the first server (the CNI must be installed by K3s itself, before any
   * pod can run): pass `k3sServerManifests(site)` from the cdk8s side (the `k8s` entry point), which renders them
   * with cdk8s; this stack stays free of cdk8s.
   *
   * Required on K3s sites whose CNI is Cilium (K3s runs with `flannel-backend: none` there, so a server without
   * the bootstrap manifest never gets a pod network); `[]` says the CNI is installed some other way.
   *
   * @default - none (an error on K3s sites with Cilium)
   */
  readonly serverManifests?: readonly { readonly path: string; readonly content: string }[];
  /**
   * The hosts exist already (pre-provisioned machines, or a site adopted from elsewhere): no Proxmox resource is
   * made and no Proxmox provider configured; every host is configured by its converge step over SSH, at the
   * address the site gives (as `root` for hosts of kind lxc, as the admin user with sudo otherwise).
   *
   * @default false
   */
  readonly existingHosts?: boolean;
  /**
   * Hosts of the site this stack does not configure (another stack or a person does); they keep their place in the
   * plan (backends, records), but get no machine and no converge step.
   *
   * @default []
   */
  readonly unmanagedHosts?: readonly string[];
  /**
   * Where the site's secrets come from: `generated` (`random_password` resources, in the state) or `variables`
   * (sensitive Terraform variables you set: `TF_VAR_haproxy_stats_password`, `TF_VAR_k3s_token`,
   * `TF_VAR_vrrp_auth_pass`, `TF_VAR_postgres_k3s_password`, `TF_VAR_postgres_replication_password`; letters and
   * digits). `variables` needs no provider at all; it covers load balancers, K3s and a PostgreSQL datastore without
   * TLS (kubeadm and the datastore's TLS need generated keys and certificates).
   *
   * @default 'generated'
   */
  readonly secrets?: 'generated' | 'variables';
  /**
   * Where Terraform keeps the stack's state: `{ type: 'local', path? }`, `{ type: 'pg', schemaName? }` (one schema
   * per stack; the connection string comes from `PG_CONN_STR`) or `{ type: 's3', bucket, region, key?, endpoint?,
   * usePathStyle?, ... }` (locked with its lock file; credentials from the AWS environment). See `StateBackendOptions`.
   *
   * @default - the local file `terraform.<stack>.tfstate` beside `cdktf.out/`, as a relative path (no path of the machine that synthesized)
   */
  readonly backend?: StateBackendOptions;
  /**
   * How long the converge steps wait, at most: a VM's first boot, the whole converge script, each systemctl call
   * (seconds). Past a deadline the step fails with one line naming the host, the step and what it waited for, and
   * the rollout stops there.
   *
   * @default - first boot and converge `controlPlane.joinApiWaitMinutes` + 30 minutes, systemctl 600 s
   */
  readonly deadlines?: Partial<ConvergeDeadlines>;
}


/**
 * One Terraform stack per site: the provider, the cloud image and templates on each Proxmox node, and every host
 * with its base configuration. Roles (load balancers, K3s, datastore, DNS) attach to `hosts` by name.
 *
 * Credentials never appear in the stack: the Proxmox API token and the LXC provisioning key are sensitive
 * Terraform variables (`TF_VAR_proxmox_api_token`, and `TF_VAR_ssh_private_key`, which the converge steps connect with); the admin's public key is the
 * `admin_ssh_public_key` variable. The site's warnings become cdktf warning annotations.
 */
export class SiteStack extends TerraformStack {
  /** The site the stack was built from. */
  public readonly site: SitePlan;
  /** The bpg/proxmox provider: API token from the sensitive `proxmox_api_token` variable, snippets uploaded over SSH; none for existing hosts. */
  public readonly provider?: ProxmoxProvider;
  /** Hosts by name, in site order. */
  public readonly hosts: ReadonlyMap<string, SiteHost>;
  /** HAProxy + Keepalived, when the site has hosts with role `load-balancer`. */
  public readonly loadBalancers?: HaLoadBalancerPair;
  /** The K3s servers, on K3s sites. */
  public readonly controlPlane?: K3sControlPlane;
  /** Bind9 on the hosts with role `dns`, when there are any. */
  public readonly dns?: DnsZone;

  constructor(scope: Construct, id: string, props: SiteStackProps) {
    super(scope, id);
    // `cdktf synth` fails on an unsafe change against the previous synthesis (see synth-guard.ts).
    guardAgainstUnsafeChanges(this);
    const { site } = props;
    this.site = site;
    applyStateBackend(this, props.backend, 'SiteStackProps.backend');
    site.warnings.forEach((warning) => Annotations.of(this).addWarning(`${warning.path}: ${warning.message}`));

    const existing = props.existingHosts ?? false;
    const unmanaged = new Set(props.unmanagedHosts ?? []);
    const unknown = [...unmanaged].filter((name) => !site.hosts.some((host) => host.name === name));
    if (unknown.length > 0) {
      throw new Error(`site ${site.name}: SiteStackProps.unmanagedHosts: ${JSON.stringify(unknown)} — expected names of the site's hosts (${site.hosts.map((h) => h.name).join(', ')})`);
    }
    const secretsFromVariables = props.secrets === 'variables';
    if (secretsFromVariables && (site.postgres?.tls || site.controlPlane.distribution === Distribution.KUBEADM)) {
      throw new Error(`site ${site.name}: SiteStackProps.secrets: "variables" — covers load balancers, K3s and a PostgreSQL datastore without TLS; `
        + `${site.postgres?.tls ? 'the datastore\'s TLS' : 'kubeadm'} needs generated keys and certificates: use "generated"${site.postgres?.tls ? ' or postgres.tls: false' : ''}`);
    }
    const adminKey = new TerraformVariable(this, 'admin_ssh_public_key', {
      type: 'string',
      description: `SSH public key of the admin user "${site.access.adminUser}" on every host`,
    });
    const sshKey = new TerraformVariable(this, 'ssh_private_key', {
      type: 'string',
      sensitive: true,
      description: 'private key matching admin_ssh_public_key: the converge steps configure the hosts over SSH with it',
    });
    let proxmoxApi: ProxmoxApiAccess | undefined;
    if (!existing) {
      const apiToken = new TerraformVariable(this, 'proxmox_api_token', {
        type: 'string',
        sensitive: true,
        description: 'Proxmox VE API token, "user@realm!tokenid=secret"',
      });
      proxmoxApi = { endpoint: site.proxmox.endpoint, apiToken: apiToken.stringValue, insecureTls: site.proxmox.insecureTls };
      this.provider = new ProxmoxProvider(this, 'proxmox', {
        endpoint: escapeTerraformTemplate(site.proxmox.endpoint),
        apiToken: apiToken.stringValue,
        insecure: site.proxmox.insecureTls,
        // Snippet uploads go over SSH to the node (the API cannot write snippets).
        ssh: { agent: true, username: site.proxmox.sshUser },
      });
    }

    const downloads = new Map<string, ProxmoxDownload>();
    const downloadOn = (node: string, kind: HostKind): ProxmoxDownload => {
      const key = `${kind}-${node}`;
      let download = downloads.get(key);
      if (!download) {
        const file = kind === HostKind.VM ? site.proxmox.cloudImage : site.proxmox.lxcTemplate!;
        download = new ProxmoxDownload(this, kind === HostKind.VM ? `CloudImage-${node}` : `LxcTemplate-${node}`, {
          nodeName: node,
          datastoreId: site.proxmox.datastores.images,
          contentType: kind === HostKind.VM ? 'import' : 'vztmpl',
          url: file.url,
          fileName: file.fileName,
          checksum: file.checksum,
          checksumAlgorithm: file.checksumAlgorithm,
        });
        downloads.set(key, download);
      }
      return download;
    };

    const hosts = new Map<string, SiteHost>();
    const connections = new Map<string, ConvergeConnection>();
    const deadlines = convergeDeadlines(site.controlPlane.joinApiWaitMinutes, props.deadlines);
    for (const host of site.hosts) {
      const cloudConfig = new CloudConfig({ hostname: host.name, fqdn: host.fqdn });
      applyBaseHost(cloudConfig, site, host, [adminKey.stringValue]);
      if ([HostRole.K3S_SERVER, HostRole.K3S_AGENT, HostRole.CONTROL_PLANE, HostRole.WORKER].some((role) => hasRole(host, role))) {
        applyK3sNodePrerequisites(cloudConfig);
      }
      if (site.network.etcHosts) {
        applyEtcHostsRole(cloudConfig, site);
      }
      const connection: ConvergeConnection = {
        host: host.ip,
        // VMs disable root logins (cloud-init); containers are provisioned as root.
        user: host.kind === HostKind.LXC ? 'root' : site.access.adminUser,
        privateKey: sshKey.stringValue,
        ...(host.sshHostKey ? { hostKey: host.sshHostKey } : {}),
        ...(site.rollout.bastion ? { bastion: site.rollout.bastion } : {}),
      };
      const facts = convergeFacts(site, host);
      connections.set(host.name, connection);
      if (unmanaged.has(host.name)) {
        hosts.set(host.name, { plan: host, cloudConfig });
        continue;
      }
      if (existing) {
        if (host.kind === HostKind.LXC) {
          // Logged in as root: the converge step keeps root's keys (a ProxmoxLxc does this itself).
          applyContainerRootKeys(cloudConfig, [adminKey.stringValue, ...site.access.sshAuthorizedKeys]);
        }
        const converge = host.decommission ? undefined
          : new HostConverge(this, host.name, { hostName: host.name, cloudConfig, connection, waitForCloudInit: host.kind === HostKind.VM, facts, deadlines });
        hosts.set(host.name, { plan: host, cloudConfig, converge });
        continue;
      }
      const common = {
        name: host.name,
        nodeName: host.proxmoxNode,
        vmId: host.vmId,
        ipv4Cidr: host.ipCidr,
        gateway: site.network.gateway,
        dnsServers: site.network.dnsServers,
        dnsDomain: site.network.searchDomain,
        bridge: site.proxmox.bridge,
        vlanId: site.proxmox.vlanId,
        diskDatastoreId: site.proxmox.datastores.disks,
        cores: host.size.cores,
        memoryMiB: host.size.memoryMiB,
        diskGiB: host.size.diskGiB,
        cloudConfig,
        generation: host.generation,
        tags: ['proxmox-k3s-ha', site.name, ...host.roles],
        description: `${site.name}: ${host.roles.join(', ')} (managed by proxmox-k3s-ha)`,
      };
      const machine = host.kind === HostKind.VM
        ? new ProxmoxVm(this, host.name, {
          ...common,
          imageFileId: downloadOn(host.proxmoxNode, HostKind.VM).fileId,
          snippetsDatastoreId: site.proxmox.datastores.snippets,
          converge: host.decommission ? undefined : connection,
          convergeFacts: facts,
          convergeDeadlines: deadlines,
          restartThrough: proxmoxApi,
        })
        : new ProxmoxLxc(this, host.name, {
          ...common,
          templateFileId: downloadOn(host.proxmoxNode, HostKind.LXC).fileId,
          osType: site.proxmox.lxcTemplate?.osType,
          sshAuthorizedKeys: [adminKey.stringValue, ...site.access.sshAuthorizedKeys],
          sshPrivateKey: sshKey.stringValue,
          convergeConnection: { hostKey: connection.hostKey, bastion: connection.bastion },
          decommissioned: host.decommission,
          convergeFacts: facts,
          convergeDeadlines: deadlines,
        });
      hosts.set(host.name, { plan: host, cloudConfig, machine, converge: machine.converge });
    }
    this.hosts = hosts;

    const firstServer = controlPlaneHosts(site)[0];
    if (props.serverManifests === undefined && site.controlPlane.distribution === Distribution.K3S && site.cluster.cni === CniKind.CILIUM) {
      throw new Error(`site ${site.name}: SiteStackProps.serverManifests: undefined — expected the CNI's bootstrap manifest, k3sServerManifests(site) `
        + `(K3s runs with flannel-backend: none, so without it no pod gets a network), or [] when the CNI is installed some other way`);
    }
    for (const manifest of props.serverManifests ?? []) {
      hosts.get(firstServer.name)!.cloudConfig.addFile('k3s-bootstrap', { path: manifest.path, content: manifest.content, mode: '0600' });
    }

    const secretVariable = (name: string, description: string) => new TerraformVariable(this, name, { type: 'string', sensitive: true, description }).stringValue;
    if (!secretsFromVariables) {
      new RandomProvider(this, 'random');
    }
    // Exactly one tls provider: kubeadm's cluster CA and the PostgreSQL datastore's CA both need it.
    if (site.controlPlane.distribution === Distribution.KUBEADM || site.postgres?.tls === true) {
      new TlsProvider(this, 'tls');
    }
    if (site.loadBalancer) {
      this.loadBalancers = new HaLoadBalancerPair(this, 'LoadBalancers', {
        site,
        hosts: site.loadBalancer.nodes.map((node) => ({ name: node.name, cloudConfig: hosts.get(node.name)!.cloudConfig })),
        ...(secretsFromVariables ? {
          statsPassword: secretVariable('haproxy_stats_password', 'password of the HAProxy stats pages (letters and digits)'),
          ...(site.loadBalancer.vrrpAuthentication ? { vrrpAuthPass: secretVariable('vrrp_auth_pass', 'VRRPv2 auth_pass (8 letters and digits)') } : {}),
        } : {}),
      });
      if (!secretsFromVariables) {
        // With secrets from variables the operator set it already (and the variable has this name).
        new TerraformOutput(this, 'haproxy_stats_password', {
          value: this.loadBalancers.statsPassword,
          sensitive: true,
          description: `password of user "admin" on the HAProxy stats pages (http://<load balancer>:${site.loadBalancer.statsPort}/)`,
        });
      }
    }

    if (site.dns) {
      this.dns = new DnsZone(this, 'Dns', { site, hosts: site.dns.servers.map((server) => ({ name: server.name, cloudConfig: hosts.get(server.name)!.cloudConfig })) });
    }
    const backupCredentials = backupCredentialVariables(this, site);
    const withRole = (role: HostRole) => site.hosts.filter((h) => hasRole(h, role)).map((h) => ({ name: h.name, cloudConfig: hosts.get(h.name)!.cloudConfig }));
    if (site.controlPlane.distribution === Distribution.K3S) {
      const datastore = site.controlPlane.datastore === DatastoreKind.POSTGRES
        ? new PostgresDatastore(this, 'Datastore', {
          site, hosts: withRole(HostRole.DATASTORE), loadBalancers: this.loadBalancers,
          ...(site.postgres?.witness ? { witness: { name: site.postgres.witness.name, cloudConfig: hosts.get(site.postgres.witness.name)!.cloudConfig } } : {}),
          ...(secretsFromVariables ? {
            passwords: {
              k3s: secretVariable('postgres_k3s_password', 'password of the K3s database user (letters and digits)'),
              replication: secretVariable('postgres_replication_password', 'password of the PostgreSQL replication role (letters and digits)'),
              superuser: secretVariable('postgres_superuser_password', 'password of the PostgreSQL superuser Patroni connects as (letters and digits)'),
              rewind: secretVariable('postgres_rewind_password', 'password of the role pg_rewind connects as (letters and digits)'),
              restApi: secretVariable('patroni_api_password', 'password of the Patroni REST API user "patroni" (letters and digits)'),
            },
          } : {}),
        })
        : embeddedEtcdBackupDatastore(site, backupCredentials) ?? new EmbeddedEtcdDatastore();
      this.controlPlane = new K3sControlPlane(this, 'ControlPlane', {
        site, servers: withRole(HostRole.K3S_SERVER), datastore,
        ...(secretsFromVariables ? { token: secretVariable('k3s_token', 'the K3s cluster token (letters and digits)') } : {}),
      });
      new K3sAgents(this, 'Agents', { site, agents: withRole(HostRole.K3S_AGENT), token: this.controlPlane.token });
    }
    if (site.controlPlane.distribution === Distribution.KUBEADM) {
      const controlPlane = new KubeadmControlPlane(this, 'ControlPlane', { site, controlPlanes: withRole(HostRole.CONTROL_PLANE) });
      new KubeadmWorkers(this, 'Workers', { site, workers: withRole(HostRole.WORKER), joinSecrets: controlPlane.joinSecrets });
    }

    applySiteBackups(this, site, hosts, backupCredentials, { token: this.controlPlane?.token, tokenFromVariable: secretsFromVariables });
    if (site.controlPlane.distribution === Distribution.K3S) {
      addNodeLifecycle(this, site, hosts, connections);
    } else {
      addKubeadmJoinPreparation(this, site, hosts, connections);
    }
    addDatastoreRejoin(this, site, hosts, connections);

    // Generated host certificates are renewed ahead of their expiry, through the converge steps; plans warn first.
    addCertificateRenewal(this);

    // Hosts converge one after another, each only once the previous one passed its gates.
    for (const step of rolloutOrder(site, new Set([...hosts.values()].filter((h) => h.converge).map((h) => h.plan.name)))) {
      const converge = hosts.get(step.host)!.converge!;
      converge.placeInRollout(step.position, step.after.map((name) => hosts.get(name)!.converge!));
    }

    new TerraformOutput(this, 'kubeconfig_command', {
      // K3s writes its kubeconfig for 127.0.0.1; kubeadm's admin.conf already names the control-plane endpoint.
      value: site.controlPlane.distribution === Distribution.K3S
        ? `ssh ${site.access.adminUser}@${firstServer.ip} sudo cat /etc/rancher/k3s/k3s.yaml | sed 's#https://127.0.0.1:6443#${site.apiEndpoint.url}#' > ${site.name}.kubeconfig`
        : `ssh ${site.access.adminUser}@${firstServer.ip} sudo cat /etc/kubernetes/admin.conf > ${site.name}.kubeconfig`,
      description: 'fetches an admin kubeconfig that points at the API endpoint (never 127.0.0.1)',
    });
    new TerraformOutput(this, 'api_endpoint', {
      value: site.apiEndpoint.url,
      description: 'Kubernetes API endpoint (VIP or load balancer) that kubeconfigs point at',
    });
    new TerraformOutput(this, 'host_addresses', {
      value: Object.fromEntries(site.hosts.map((host) => [host.name, host.ip])),
      description: 'static IPv4 address of every host',
    });
  }

  /** The stack's Terraform JSON; refuses a `lifecycle` entry Terraform would reject (an interpolation, see lifecycle-references.ts). */
  public override toTerraform(): any {
    const stack = super.toTerraform();
    const interpolated = interpolatedLifecycleEntries(stack);
    if (interpolated.length > 0) {
      throw new Error(`site ${this.site.name}: lifecycle entries must be bare references, Terraform rejects: ${interpolated.join('; ')}`);
    }
    return stack;
  }
}
