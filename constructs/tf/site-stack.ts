import { Annotations, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { ConvergeDeadlines } from '../cloud-init/render-converge';
import { BackupCredentials } from '../renderers/etcd-backup';
import { KUBEADM_ADMIN_KUBECONFIG_PATH } from '../renderers/kubeadm';
import { SitePlan, controlPlaneHosts, hasRole } from '../site/plan';
import { rolloutOrder } from '../site/rollout';
import { DatastoreKind, Distribution, HostRole } from '../site/spec';
import { DnsZone } from './dns-zone';
import { ProxmoxProvider } from './generated/providers/proxmox/provider';
import { HaLoadBalancerPair } from './ha-load-balancer-pair';
import { EmbeddedEtcdDatastore, K3sAgents, K3sControlPlane } from './k3s-control-plane';
import { KubeadmControlPlane, KubeadmWorkers } from './kubeadm-control-plane';
import {
  ConvergeConnection, addCertificateRenewal, addDatastoreRejoin, addKubeadmJoinPreparation, addKubeadmWorkerRebuilds, addNodeLifecycle, convergeDeadlines, guardAgainstUnsafeChanges,
} from './lifecycle';
import { interpolatedLifecycleEntries } from './lifecycle-references';
import { PostgresDatastore } from './postgres-datastore';
import { configureProxmoxProvider, declareSiteAccess } from './site-access';
import { applySiteBackups, backupCredentialVariables, embeddedEtcdBackupDatastore } from './site-backups';
import { RoleHost, SiteHost } from './site-hosts';
import { addSiteMachines } from './site-machines';
import { addSecretProviders, secretVariable } from './site-secrets';
import { requireServerManifests, resolveSiteStackOptions } from './site-stack-options';
import { StateBackendOptions, applyStateBackend } from './state-backend';
import { TERRAFORM_REQUIRED_VERSION } from './terraform-data';

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
    this.addOverride('terraform.required_version', TERRAFORM_REQUIRED_VERSION);
    // `cdktf synth` fails on an unsafe change against the previous synthesis (see synth-guard.ts).
    guardAgainstUnsafeChanges(this);
    const { site } = props;
    this.site = site;
    applyStateBackend(this, props.backend, 'SiteStackProps.backend');
    site.warnings.forEach((warning) => Annotations.of(this).addWarning(`${warning.path}: ${warning.message}`));
    const options = resolveSiteStackOptions(site, props);
    const access = declareSiteAccess(this, site);
    const proxmox = options.existingHosts ? undefined : configureProxmoxProvider(this, site);
    this.provider = proxmox?.provider;
    const deadlines = convergeDeadlines(site.controlPlane.joinApiWaitMinutes, props.deadlines);
    const { hosts, connections } = addSiteMachines(this, site, { options, access, proxmoxApi: proxmox?.api, deadlines });
    this.hosts = hosts;
    this.addServerManifests(props.serverManifests);
    addSecretProviders(this, site, options.secretsFromVariables);
    this.loadBalancers = this.addLoadBalancers(options.secretsFromVariables);
    this.dns = this.addDns();
    const backupCredentials = backupCredentialVariables(this, site);
    if (site.controlPlane.distribution === Distribution.K3S) {
      this.controlPlane = this.addK3sCluster(options.secretsFromVariables, backupCredentials);
    } else {
      this.addKubeadmCluster();
    }
    this.addLifecycle(connections, backupCredentials, options.secretsFromVariables);
    this.addOutputs();
  }

  /** K3s's auto-deploy manifests (the CNI's bootstrap) on the first server. */
  private addServerManifests(serverManifests: SiteStackProps['serverManifests']): void {
    requireServerManifests(this.site, serverManifests);
    const firstServer = controlPlaneHosts(this.site)[0];
    for (const manifest of serverManifests ?? []) {
      this.hosts.get(firstServer.name)!.cloudConfig.addFile('k3s-bootstrap', { path: manifest.path, content: manifest.content, mode: '0600' });
    }
  }

  /** HAProxy + Keepalived on the load balancers, and the stats password as an output when it is generated. */
  private addLoadBalancers(secretsFromVariables: boolean): HaLoadBalancerPair | undefined {
    const { site } = this;
    if (!site.loadBalancer) {
      return undefined;
    }
    const loadBalancers = new HaLoadBalancerPair(this, 'LoadBalancers', {
      site,
      hosts: site.loadBalancer.nodes.map((node) => this.roleHost(node.name)),
      ...(secretsFromVariables ? {
        statsPassword: secretVariable(this, 'haproxy_stats_password', 'password of the HAProxy stats pages (letters and digits)'),
        ...(site.loadBalancer.vrrpAuthentication ? { vrrpAuthPass: secretVariable(this, 'vrrp_auth_pass', 'VRRPv2 auth_pass (8 letters and digits)') } : {}),
      } : {}),
    });
    if (!secretsFromVariables) {
      // With secrets from variables the operator set it already (and the variable has this name).
      new TerraformOutput(this, 'haproxy_stats_password', {
        value: loadBalancers.statsPassword,
        sensitive: true,
        description: `password of user "admin" on the HAProxy stats pages (http://<load balancer>:${site.loadBalancer.statsPort}/)`,
      });
    }
    return loadBalancers;
  }

  /** Bind9 on the site's DNS servers. */
  private addDns(): DnsZone | undefined {
    const { site } = this;
    return site.dns ? new DnsZone(this, 'Dns', { site, hosts: site.dns.servers.map((server) => this.roleHost(server.name)) }) : undefined;
  }

  /** The K3s servers on their datastore (PostgreSQL, or embedded etcd with or without backups), and the agents. */
  private addK3sCluster(secretsFromVariables: boolean, backupCredentials: BackupCredentials | undefined): K3sControlPlane {
    const { site } = this;
    const datastore = site.controlPlane.datastore === DatastoreKind.POSTGRES
      ? new PostgresDatastore(this, 'Datastore', {
        site, hosts: this.hostsWithRole(HostRole.DATASTORE), loadBalancers: this.loadBalancers,
        ...(site.postgres?.witness ? { witness: this.roleHost(site.postgres.witness.name) } : {}),
        ...(secretsFromVariables ? {
          passwords: {
            k3s: secretVariable(this, 'postgres_k3s_password', 'password of the K3s database user (letters and digits)'),
            replication: secretVariable(this, 'postgres_replication_password', 'password of the PostgreSQL replication role (letters and digits)'),
            superuser: secretVariable(this, 'postgres_superuser_password', 'password of the PostgreSQL superuser Patroni connects as (letters and digits)'),
            rewind: secretVariable(this, 'postgres_rewind_password', 'password of the role pg_rewind connects as (letters and digits)'),
            restApi: secretVariable(this, 'patroni_api_password', 'password of the Patroni REST API user "patroni" (letters and digits)'),
          },
        } : {}),
      })
      : embeddedEtcdBackupDatastore(site, backupCredentials) ?? new EmbeddedEtcdDatastore();
    const controlPlane = new K3sControlPlane(this, 'ControlPlane', {
      site, servers: this.hostsWithRole(HostRole.K3S_SERVER), datastore,
      ...(secretsFromVariables ? { token: secretVariable(this, 'k3s_token', 'the K3s cluster token (letters and digits)') } : {}),
    });
    new K3sAgents(this, 'Agents', { site, agents: this.hostsWithRole(HostRole.K3S_AGENT), token: controlPlane.token });
    return controlPlane;
  }

  /** The kubeadm control planes and the workers that join them. */
  private addKubeadmCluster(): void {
    const { site } = this;
    const controlPlane = new KubeadmControlPlane(this, 'ControlPlane', { site, controlPlanes: this.hostsWithRole(HostRole.CONTROL_PLANE) });
    new KubeadmWorkers(this, 'Workers', { site, workers: this.hostsWithRole(HostRole.WORKER), joinSecrets: controlPlane.joinSecrets });
  }

  /** Backups, the day-2 steps (node rejoin or kubeadm join preparation and worker rebuilds, datastore rejoin, certificate renewal) and the rollout order. */
  private addLifecycle(connections: ReadonlyMap<string, ConvergeConnection>, backupCredentials: BackupCredentials | undefined, secretsFromVariables: boolean): void {
    const { site, hosts } = this;
    applySiteBackups(this, site, hosts, backupCredentials, { token: this.controlPlane?.token, tokenFromVariable: secretsFromVariables });
    if (site.controlPlane.distribution === Distribution.K3S) {
      addNodeLifecycle(this, site, hosts, connections);
    } else {
      addKubeadmJoinPreparation(this, site, hosts, connections);
      addKubeadmWorkerRebuilds(this, site, hosts, connections);
    }
    addDatastoreRejoin(this, site, hosts, connections);

    // Generated host certificates are renewed ahead of their expiry, through the converge steps; plans warn first.
    addCertificateRenewal(this);

    // Hosts converge one after another, each only once the previous one passed its gates.
    for (const step of rolloutOrder(site, new Set([...hosts.values()].filter((h) => h.converge).map((h) => h.plan.name)))) {
      const converge = hosts.get(step.host)!.converge!;
      converge.placeInRollout(step.position, step.after.map((name) => hosts.get(name)!.converge!));
    }
  }

  /** How to reach the cluster: the kubeconfig command, the API endpoint and every host's address. */
  private addOutputs(): void {
    const { site } = this;
    const firstServer = controlPlaneHosts(site)[0];
    new TerraformOutput(this, 'kubeconfig_command', {
      // K3s writes its kubeconfig for 127.0.0.1; kubeadm's admin.conf already names the control-plane endpoint.
      value: site.controlPlane.distribution === Distribution.K3S
        ? `ssh ${site.access.adminUser}@${firstServer.ip} sudo cat /etc/rancher/k3s/k3s.yaml | sed 's#https://127.0.0.1:6443#${site.apiEndpoint.url}#' > ${site.name}.kubeconfig`
        : `ssh ${site.access.adminUser}@${firstServer.ip} sudo cat ${KUBEADM_ADMIN_KUBECONFIG_PATH} > ${site.name}.kubeconfig`,
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

  /** The named host as a role attaches to it. */
  private roleHost(name: string): RoleHost {
    return { name, cloudConfig: this.hosts.get(name)!.cloudConfig };
  }

  /** The site's hosts with `role`, in site order, as roles attach to them. */
  private hostsWithRole(role: HostRole): RoleHost[] {
    return this.site.hosts.filter((h) => hasRole(h, role)).map((h) => this.roleHost(h.name));
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
