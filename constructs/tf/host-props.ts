import { CloudConfig } from '../cloud-init/cloud-config';

/** What every Proxmox host (VM or LXC container) is given: placement, a static address, size and configuration. */
export interface ProxmoxHostProps {
  /** Host name. */
  readonly name: string;
  /** Proxmox node the host runs on. */
  readonly nodeName: string;
  /** Proxmox VM/CT id, unique in the Proxmox cluster. */
  readonly vmId: number;
  /** Static address with prefix length, e.g. `192.168.168.111/24`. */
  readonly ipv4Cidr: string;
  /** IPv4 default gateway. */
  readonly gateway: string;
  /** DNS resolvers the host uses. */
  readonly dnsServers: readonly string[];
  /** DNS search domain of the host. */
  readonly dnsDomain: string;
  /** Bridge the NIC attaches to. */
  readonly bridge: string;
  /**
   * VLAN tag of the NIC.
   *
   * @default - untagged
   */
  readonly vlanId?: number;
  /** Datastore of the root disk (and of a VM's cloud-init drive), e.g. `local-lvm`. */
  readonly diskDatastoreId: string;
  /** What the host is configured with; roles may still add to it until synthesis. */
  readonly cloudConfig: CloudConfig;
  /**
   * Virtual CPU cores. `SiteStack` always passes the site plan's size, so these defaults apply only to direct use.
   *
   * @default - 2 for a VM, 1 for a container
   */
  readonly cores?: number;
  /**
   * Memory in MiB (a container gets no swap).
   *
   * @default - 4096 for a VM, 512 for a container
   */
  readonly memoryMiB?: number;
  /**
   * Root disk size in GiB (a VM's boot disk imported from the cloud image, or a container's root filesystem).
   *
   * @default - 40 for a VM, 8 for a container
   */
  readonly diskGiB?: number;
  /** Proxmox tags (sorted on output). @default [] */
  readonly tags?: readonly string[];
  /**
   * Notes shown for the VM or container in the Proxmox UI.
   *
   * @default - none
   */
  readonly description?: string;
}
