import { CniKind, Distribution, HostRole, SiteSpec } from '../constructs';
import { UBUNTU_2404_CLOUD_IMAGE } from './common';

const controlPlane = { roles: [HostRole.CONTROL_PLANE] };
const worker = { roles: [HostRole.WORKER] };

/**
 * Seed 003, "HA-K8s-Cluster-Stacked-etcd-HAProxy": kubeadm (Kubernetes 1.30, CRI-O 1.30) with three control planes
 * on stacked etcd (quorum 2 of 3), two workers, and one HAProxy VM in front of the API servers on 6443. Swap off,
 * overlay/br_netfilter and the bridge/forwarding sysctls, `--node-ip` per node, as the seed's script does.
 *
 * Invented where the seed is silent: every address — the seed names none, so they lie in 198.51.100.0/24
 * (TEST-NET-2, a documentation range; replace them with the site's own) — the zone stacked.k8s.internal, the
 * HAProxy host's name, the Proxmox endpoint, node names, VM ids and datastores. Flannel is the CNI (the seed
 * installs none), with its default pod network.
 */
const kubeadmStacked: SiteSpec = {
  name: 'kubeadm-stacked',
  description: 'kubeadm HA: 3 control planes on stacked etcd behind one HAProxy VM, 2 workers, CRI-O, Flannel',
  network: { cidr: '198.51.100.0/24', gateway: '198.51.100.1', dnsServers: ['198.51.100.1'], searchDomain: 'stacked.k8s.internal' },
  proxmox: {
    endpoint: 'https://pve1.stacked.k8s.internal:8006/',
    nodes: ['pve1', 'pve2', 'pve3'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
  },
  hosts: [
    { name: 'haproxy', ip: '198.51.100.10', vmId: 310, proxmoxNode: 'pve1', roles: [HostRole.LOAD_BALANCER] },
    { name: 'controlplane1', ip: '198.51.100.11', vmId: 311, proxmoxNode: 'pve1', ...controlPlane },
    { name: 'controlplane2', ip: '198.51.100.12', vmId: 312, proxmoxNode: 'pve2', ...controlPlane },
    { name: 'controlplane3', ip: '198.51.100.13', vmId: 313, proxmoxNode: 'pve3', ...controlPlane },
    { name: 'worker1', ip: '198.51.100.21', vmId: 321, proxmoxNode: 'pve2', ...worker },
    { name: 'worker2', ip: '198.51.100.22', vmId: 322, proxmoxNode: 'pve3', ...worker },
  ],
  apiEndpoint: { port: 6443 },
  // The seed pins Kubernetes 1.30.0-1.1 and installs CRI-O unversioned from its v1.30 repository. The patches here
  // are not the seed's: Kubernetes 1.30.14 (a later patch of its minor) and CRI-O 1.30.14 (invented where the seed
  // is silent), both pinned and held.
  versions: { kubernetes: '1.30.14', crio: '1.30.14' },
  controlPlane: { distribution: Distribution.KUBEADM },
  // Flannel's default pod network and kubeadm's default Service range.
  cluster: { cni: CniKind.FLANNEL, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12' },
  // No ingress is wired for kubeadm sites yet: HAProxy serves the API only.
  loadBalancer: { ingressFrontends: false },
};

export default kubeadmStacked;
