import { Lazy } from 'cdktf';
import { Construct } from 'constructs';
import { CloudConfig } from '../cloud-init/cloud-config';
import { renderCloudConfig } from '../cloud-init/render-cloud-config';
import { VirtualEnvironmentFile } from './generated/providers/proxmox/virtual-environment-file';
import { VirtualEnvironmentVm } from './generated/providers/proxmox/virtual-environment-vm';
import { ProxmoxHostProps } from './host-props';
import { completeNetworkDevice } from './network-device';
import { escapeTerraformTemplate, fingerprint } from './terraform-template';

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
   * Put a fingerprint of the rendered cloud-init into the snippet's file name, so changed user data replaces the VM.
   *
   * Cloud-init runs once, at first boot: without replacement a changed configuration is uploaded but never applied
   * to the running VM. Set false to keep VMs and apply changes yourself.
   *
   * @default true
   */
  readonly cloudInitCausesReplacement?: boolean;
}

/**
 * A Proxmox QEMU VM booted from a cloud image and configured by cloud-init.
 *
 * Creates the VM (`proxmox_virtual_environment_vm`, the public `resource`) and its user data, uploaded as a
 * `snippets` file (`proxmox_virtual_environment_file`, the public `userData`) and referenced by
 * `initialization.user_data_file_id`. The upload goes over SSH, so the provider's `ssh` block must reach the node.
 *
 * **Changing the user data replaces the VM** (by default, see `cloudInitCausesReplacement`): the file name carries
 * a fingerprint of its content and `user_data_file_id` forces replacement. Escape hatch: `vm.resource.addOverride()`.
 */
export class ProxmoxVm extends Construct {
  /** The VM resource. */
  public readonly resource: VirtualEnvironmentVm;
  /** The cloud-init user data snippet. */
  public readonly userData: VirtualEnvironmentFile;
  /** The VM's configuration builder; rendered at synthesis, so roles may still add to it after construction. */
  public readonly cloudConfig: CloudConfig;
  /** The VM's static IPv4 address (without prefix). */
  public readonly vmIpv4Address: string;

  constructor(scope: Construct, id: string, props: ProxmoxVmProps) {
    super(scope, id);
    this.cloudConfig = props.cloudConfig;
    this.vmIpv4Address = props.ipv4Cidr.split('/')[0];
    // Rendered lazily so roles attached after construction are included.
    const userDataText = Lazy.stringValue({ produce: () => escapeTerraformTemplate(renderCloudConfig(this.cloudConfig)) });
    const replaceOnChange = props.cloudInitCausesReplacement ?? true;
    const fileName = Lazy.stringValue({
      produce: (context) => {
        // Hash the resolved text (references rendered as Terraform expressions): stable across synth runs.
        const suffix = replaceOnChange ? `-${fingerprint(String(context.resolve(userDataText)))}` : '';
        return `${props.name}-user-data${suffix}.yaml`;
      },
    });

    this.userData = new VirtualEnvironmentFile(this, 'UserData', {
      nodeName: props.nodeName,
      datastoreId: props.snippetsDatastoreId,
      contentType: 'snippets',
      sourceRaw: { data: userDataText, fileName },
    });

    this.resource = new VirtualEnvironmentVm(this, 'Resource', {
      name: props.name,
      nodeName: props.nodeName,
      vmId: props.vmId,
      description: props.description,
      tags: props.tags ? [...props.tags].sort() : undefined,
      onBoot: true,
      started: true,
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
      },
    });
    this.resource.addOverride('network_device', [completeNetworkDevice({ bridge: props.bridge, model: 'virtio', ...(props.vlanId ? { vlan_id: props.vlanId } : {}) })]);
  }
}
