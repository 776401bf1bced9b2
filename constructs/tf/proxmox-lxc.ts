import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { VirtualEnvironmentContainer, VirtualEnvironmentContainerFeatures } from './generated/providers/proxmox/virtual-environment-container';
import { ProxmoxHostProps } from './host-props';
import { ConvergeDeadlines } from '../cloud-init/render-converge';
import { escapeTerraformTemplate } from './terraform-template';
import { setLifecycleReferences } from './lifecycle-references';
import { ConvergeConnection, HostConverge, containerRestart } from './lifecycle';
import { TerraformData } from './terraform-data';

/** Properties of a {@link ProxmoxLxc}. */
export interface ProxmoxLxcProps extends ProxmoxHostProps {
  /** Template volume id (`<datastore>:vztmpl/<file>`). */
  readonly templateFileId: string;
  /**
   * The container OS type Proxmox uses for its setup of the container (`ubuntu`, `debian`, `alpine`, ...).
   *
   * @default 'ubuntu'
   */
  readonly osType?: string;
  /** Public keys for root, which the provisioner connects as. */
  readonly sshAuthorizedKeys: readonly string[];
  /** Private key the Terraform provisioner connects with (a sensitive variable, never a literal). */
  readonly sshPrivateKey: string;
  /**
   * Run as an unprivileged container (root in the container is not root on the host).
   *
   * @default true
   */
  readonly unprivileged?: boolean;
  /**
   * Container features a role needs besides `nesting` (always on: systemd in modern distributions needs it).
   * Proxmox lets only `root@pam` set features other than `nesting`.
   *
   * @default - nesting only
   */
  readonly features?: Omit<VirtualEnvironmentContainerFeatures, 'nesting'>;
  /**
   * Rebuild counter: a change replaces the container on purpose. Configuration changes never replace it.
   *
   * @default 0
   */
  readonly generation?: number;
  /**
   * The container's SSH host key, pinned by the converge step; and a jump host to reach it.
   *
   * @default - not pinned, direct connection
   */
  readonly convergeConnection?: Pick<ConvergeConnection, 'hostKey' | 'bastion'>;
  /**
   * The container is being taken out of the site: it keeps running but gets no converge step.
   *
   * @default false
   */
  readonly decommissioned?: boolean;
  /** Facts the converge step records for the change report. @default {} */
  readonly convergeFacts?: Readonly<Record<string, string | number>>;
  /** The converge step's deadlines. @default DEFAULT_CONVERGE_DEADLINES */
  readonly convergeDeadlines?: ConvergeDeadlines;
}

/** The role name under which a container's root login keys are kept by its converge step. */
const CONTAINER_ROOT_ROLE = 'converge-login';

/**
 * Keeps root's SSH keys in a container (the user its converge step logs in as) equal to `keys`: Proxmox writes them
 * only when it creates the container (`initialization.user_account.keys`, ignored afterwards), so the converge
 * step rewrites `/root/.ssh/authorized_keys` like the admin user's. A new container boots with the same keys from
 * Proxmox, so its first converge can log in; after a rotation the old key is refused once the host converged.
 */
export function applyContainerRootKeys(config: CloudConfig, keys: readonly string[]): void {
  config.addUser(CONTAINER_ROOT_ROLE, { name: 'root', sshAuthorizedKeys: [...keys], shell: '/bin/bash' });
}

/**
 * A Proxmox LXC container provisioned by a shell script.
 *
 * LXC containers have no cloud-init, so the same {@link CloudConfig} a VM would get is rendered as an idempotent
 * POSIX script, run over SSH by a converge step ({@link HostConverge}, the public `converge`) when the container
 * is new and whenever its configuration or a secret it uses changes: it converges in place; nothing is replaced
 * (a new admin key and a new template included: they apply when the container is created). Kernel modules
 * cannot be loaded from inside a container: load them on the Proxmox host; the script fails naming any that are
 * missing.
 */
export class ProxmoxLxc extends Construct {
  /** The container resource. */
  public readonly resource: VirtualEnvironmentContainer;
  /** The rebuild counter: updated when `generation` changes, which replaces the container (and what else names it). */
  public readonly generation: TerraformData;
  /** Runs the provisioning (converge) script on the new container and whenever it changes; none when decommissioned. */
  public readonly converge?: HostConverge;
  /** The converge step's `terraform_data` resource (`converge.resource`). */
  public readonly provisioner?: TerraformData;
  /** The container's configuration builder; rendered to the provisioning script at synthesis, so roles may still add to it. */
  public readonly cloudConfig: CloudConfig;
  /** The container's static IPv4 address (without prefix); the provisioner connects to it over SSH. */
  public readonly containerIpv4Address: string;

  constructor(scope: Construct, id: string, props: ProxmoxLxcProps) {
    super(scope, id);
    this.cloudConfig = props.cloudConfig;
    this.containerIpv4Address = props.ipv4Cidr.split('/')[0];
    applyContainerRootKeys(this.cloudConfig, props.sshAuthorizedKeys);

    const generation = new TerraformData(this, 'Generation', { input: { generation: props.generation ?? 0 } });
    this.generation = generation;
    this.resource = new VirtualEnvironmentContainer(this, 'Resource', {
      nodeName: props.nodeName,
      vmId: props.vmId,
      description: props.description,
      tags: props.tags ? [...props.tags].sort() : undefined,
      unprivileged: props.unprivileged ?? true,
      startOnBoot: true,
      started: true,
      features: { ...props.features, nesting: true },
      operatingSystem: { templateFileId: props.templateFileId, type: props.osType ?? 'ubuntu' },
      cpu: { cores: props.cores ?? 1 },
      memory: { dedicated: props.memoryMiB ?? 512, swap: 0 },
      disk: { datastoreId: props.diskDatastoreId, size: props.diskGiB ?? 8 },
      networkInterface: [{ name: 'eth0', bridge: props.bridge, ...(props.vlanId ? { vlanId: props.vlanId } : {}) }],
      initialization: {
        hostname: props.name,
        ipConfig: [{ ipv4: { address: props.ipv4Cidr, gateway: props.gateway } }],
        dns: { domain: props.dnsDomain, servers: [...props.dnsServers] },
        userAccount: { keys: props.sshAuthorizedKeys.map(escapeTerraformTemplate) },
      },
    });

    setLifecycleReferences(this.resource, {
      replaceTriggeredBy: [generation],
      // Both are ForceNew (BPG_PROXMOX_BEHAVIOUR): a rotated admin key would replace every container at once, and a
      // new or vanished template too. They apply when a container is created (or rebuilt through `generation`); a
      // running container takes a new key from its converge step (applyContainerRootKeys) and keeps its root file system.
      ignoreChanges: ['initialization[0].user_account', 'operating_system[0].template_file_id'],
    });
    if (props.decommissioned) {
      return;
    }
    this.converge = new HostConverge(this, 'Converge', {
      hostName: props.name,
      cloudConfig: this.cloudConfig,
      connection: { host: this.containerIpv4Address, user: 'root', privateKey: props.sshPrivateKey, ...props.convergeConnection },
      waitForCloudInit: false,
      machine: this.resource,
      facts: props.convergeFacts,
      deadlines: props.convergeDeadlines,
      restart: containerRestart(this.resource),
    });
    this.provisioner = this.converge.resource;
  }
}
