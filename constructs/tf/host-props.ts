import { CloudConfig } from '../cloud-init/cloud-config';

/** What every Proxmox host (VM or LXC container) is given: placement, a static address, size and configuration. */
export interface ProxmoxHostProps {
  /** Host name. */
  readonly name: string;
  /** Proxmox node the host runs on. */
  readonly nodeName: string;
  readonly vmId: number;
  /** Static address with prefix length, e.g. `192.168.168.111/24`. */
  readonly ipv4Cidr: string;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
  readonly dnsDomain: string;
  /** Bridge the NIC attaches to. */
  readonly bridge: string;
  /** @default - untagged */
  readonly vlanId?: number;
  /** Datastore of the root disk (and of a VM's cloud-init drive), e.g. `local-lvm`. */
  readonly diskDatastoreId: string;
  /** What the host is configured with; roles may still add to it until synthesis. */
  readonly cloudConfig: CloudConfig;
  /** @default - 2 for a VM, 1 for a container */
  readonly cores?: number;
  /** @default - 4096 for a VM, 512 for a container */
  readonly memoryMiB?: number;
  /** @default - 40 for a VM, 8 for a container */
  readonly diskGiB?: number;
  /** Proxmox tags (sorted on output). @default [] */
  readonly tags?: readonly string[];
  /** @default - none */
  readonly description?: string;
}
