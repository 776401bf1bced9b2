import { Lazy, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { renderCloudConfig } from '../cloud-init/render-cloud-config';
import { VirtualEnvironmentFile } from './generated/providers/proxmox/virtual-environment-file';
import { VirtualEnvironmentVm } from './generated/providers/proxmox/virtual-environment-vm';
import { ProxmoxHostProps } from './host-props';
import { completeNetworkDevice } from './network-device';
import { ConvergeDeadlines } from '../cloud-init/render-converge';
import { escapeTerraformTemplate } from './terraform-template';
import { setLifecycleReferences } from './lifecycle-references';
import { ConvergeConnection, HostConverge, ProxmoxApiAccess, pendingRestart } from './lifecycle';
import { TerraformData } from './terraform-data';

/** The role under which a VM's cloud-init identity settings are written. */
const IDENTITY_ROLE = 'machine-identity';
/** cloud-init settings of the VM itself: its SSH host keys are never deleted by a new instance. */
export const CLOUD_INIT_IDENTITY_PATH = '/etc/cloud/cloud.cfg.d/90-proxmox-k3s-ha-identity.cfg';

/**
 * The NoCloud meta-data of a VM: one cloud-init instance per machine generation. Without it Proxmox derives the
 * `instance-id` from a hash of the user data (qemu-server `Cloudinit.pm` 603-635, 637-680; see
 * shared/providers/bpg-proxmox/BEHAVIOUR.md "Cloud-init identity"), so the first cold boot after any configuration
 * change would be a new instance: per-instance modules run again and the SSH host keys are regenerated.
 */
export function renderMetaData(name: string, generation: number): string {
  return `instance-id: ${name}-g${generation}\nlocal-hostname: ${name}\n`;
}

/** Properties of a {@link ProxmoxVm}. */
export interface ProxmoxVmProps extends ProxmoxHostProps {
  /** File id of the cloud image to import as the boot disk (`<datastore>:import/<file>`, from `proxmox_download_file`). */
  readonly imageFileId: string;
  /** Datastore with the `snippets` content type enabled, for the cloud-init user data. */
  readonly snippetsDatastoreId: string;
  /**
   * QEMU CPU type. `x86-64-v2-AES` is Proxmox's default for new VMs and migrates between unlike hosts.
   *
   * @default 'x86-64-v2-AES'
   */
  readonly cpuType?: string;
  /**
   * Rebuild counter: a change replaces the VM on purpose (it boots its user data again). Configuration changes never
   * replace it.
   *
   * @default 0
   */
  readonly generation?: number;
  /**
   * Converge the running VM to its configuration over SSH after every change (see {@link HostConverge}).
   *
   * @default - no converge step: the user data applies at first boot only
   */
  readonly converge?: ConvergeConnection;
  /** Facts the converge step records for the change report. @default {} */
  readonly convergeFacts?: Readonly<Record<string, string | number>>;
  /** The converge step's deadlines. @default DEFAULT_CONVERGE_DEADLINES */
  readonly convergeDeadlines?: ConvergeDeadlines;
  /**
   * Restart the VM for memory, cores or cloud-init network changes in its converge step's rollout slot, through this
   * Proxmox API (see `machine-restart.ts`), instead of the provider restarting every changed VM at once. Needs
   * `converge`.
   *
   * @default - the provider restarts the VM during the apply (`reboot_after_update`)
   */
  readonly restartThrough?: ProxmoxApiAccess;
}

/**
 * A Proxmox QEMU VM booted from a cloud image and configured by cloud-init.
 *
 * Creates the VM (`proxmox_virtual_environment_vm`, the public `resource`) and its user data, uploaded as a
 * `snippets` file (`proxmox_virtual_environment_file`, the public `userData`) and referenced by
 * `initialization.user_data_file_id`. The upload goes over SSH, so the provider's `ssh` block must reach the node.
 *
 * **User data is what the VM boots with the first time; a change never replaces the VM.** The snippet keeps one
 * name (its content is updated for a future rebuild) and the VM ignores changes of `user_data_file_id`, which the
 * provider would otherwise answer with a replacement. A meta-data snippet (the public `metaData`) fixes the
 * cloud-init `instance-id` per `generation` ({@link renderMetaData}): a configuration change never makes the next
 * cold boot a new instance, and a rebuild is one. Changes reach the running VM through the converge step
 * (`converge`); `generation` replaces the VM on purpose. Escape hatch: `vm.resource.addOverride()`.
 */
export class ProxmoxVm extends Construct {
  /** The VM resource. */
  public readonly resource: VirtualEnvironmentVm;
  /** The rebuild counter: updated when `generation` changes, which replaces the VM (and what else names it). */
  public readonly generation: TerraformData;
  /** The cloud-init user data snippet. */
  public readonly userData: VirtualEnvironmentFile;
  /** The cloud-init meta-data snippet: a fixed `instance-id` per generation. */
  public readonly metaData: VirtualEnvironmentFile;
  /** The VM's configuration builder; rendered at synthesis, so roles may still add to it after construction. */
  public readonly cloudConfig: CloudConfig;
  /** The VM's static IPv4 address (without prefix). */
  public readonly vmIpv4Address: string;
  /** The step that converges the running VM, when `converge` was given. */
  public readonly converge?: HostConverge;

  constructor(scope: Construct, id: string, props: ProxmoxVmProps) {
    super(scope, id);
    this.cloudConfig = props.cloudConfig;
    this.vmIpv4Address = props.ipv4Cidr.split('/')[0];
    // Rendered lazily so roles attached after construction are included.
    const userDataText = Lazy.stringValue({ produce: () => escapeTerraformTemplate(renderCloudConfig(this.cloudConfig)) });
    const fileName = `${props.name}-user-data.yaml`;
    const generation = new TerraformData(this, 'Generation', { input: { generation: props.generation ?? 0 } });
    this.generation = generation;
    // Host keys survive reboots of a VM that runs since before its meta-data snippet (see metaData below).
    this.cloudConfig.addFile(IDENTITY_ROLE, { path: CLOUD_INIT_IDENTITY_PATH, content: 'ssh_deletekeys: false\n' });

    this.userData = new VirtualEnvironmentFile(this, 'UserData', {
      nodeName: props.nodeName,
      datastoreId: props.snippetsDatastoreId,
      contentType: 'snippets',
      sourceRaw: { data: userDataText, fileName },
    });

    this.metaData = new VirtualEnvironmentFile(this, 'MetaData', {
      nodeName: props.nodeName,
      datastoreId: props.snippetsDatastoreId,
      contentType: 'snippets',
      sourceRaw: { data: renderMetaData(props.name, props.generation ?? 0), fileName: `${props.name}-meta-data.yaml` },
    });

    const restartInRollout = props.converge !== undefined && props.restartThrough !== undefined;
    this.resource = new VirtualEnvironmentVm(this, 'Resource', {
      name: props.name,
      nodeName: props.nodeName,
      vmId: props.vmId,
      description: props.description,
      tags: props.tags ? [...props.tags].sort() : undefined,
      onBoot: true,
      started: true,
      // A `proxmoxNode` change migrates the running VM (online, local disks included) instead of replacing it
      // (BEHAVIOUR.md: vm.go ForceNewIf 1781-1790); its snippets are uploaded on the new node.
      migrate: true,
      // Pending until the converge step restarts the VM in its rollout slot (vm.go 2215-2240).
      ...(restartInRollout ? { rebootAfterUpdate: false } : {}),
      // A clean ACPI shutdown first, so K3s and etcd leave their data consistent.
      stopOnDestroy: false,
      agent: { enabled: true, trim: true },
      cpu: { cores: props.cores ?? 2, type: props.cpuType ?? 'x86-64-v2-AES' },
      memory: { dedicated: props.memoryMiB ?? 4096 },
      operatingSystem: { type: 'l26' },
      scsiHardware: 'virtio-scsi-single',
      disk: [{
        interface: 'scsi0',
        datastoreId: props.diskDatastoreId,
        importFromAttribute: props.imageFileId,
        size: props.diskGiB ?? 40,
        discard: 'on',
        iothread: true,
        ssd: true,
      }],
      // Cloud images log to the serial console; without a serial device some hang at boot.
      serialDevice: [{ device: 'socket' }],
      initialization: {
        datastoreId: props.diskDatastoreId,
        ipConfig: [{ ipv4: { address: props.ipv4Cidr, gateway: props.gateway } }],
        dns: { domain: props.dnsDomain, servers: [...props.dnsServers] },
        userDataFileId: this.userData.id,
        metaDataFileId: this.metaData.id,
      },
    });
    setLifecycleReferences(this.resource, {
      // The provider replaces a VM whose user data or meta-data file changes (ForceNew): the converge step applies
      // changes instead, and a VM that runs since before its meta-data snippet keeps running (it gets it when rebuilt).
      ignoreChanges: ['initialization[0].user_data_file_id', 'initialization[0].meta_data_file_id'],
      replaceTriggeredBy: [generation],
    });
    if (props.converge) {
      this.converge = new HostConverge(this, 'Converge', {
        hostName: props.name, cloudConfig: this.cloudConfig, connection: props.converge, waitForCloudInit: true, machine: this.resource, facts: props.convergeFacts,
        deadlines: props.convergeDeadlines,
        restart: restartInRollout
          ? pendingRestart(this.resource, { hostName: props.name, nodeName: this.resource.nodeName, vmId: Token.asString(this.resource.vmId) }, props.restartThrough!)
          : undefined,
      });
    }
    this.resource.addOverride('network_device', [completeNetworkDevice({ bridge: props.bridge, model: 'virtio', ...(props.vlanId ? { vlan_id: props.vlanId } : {}) })]);
  }
}
