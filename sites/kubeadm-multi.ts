import { CniKind, Distribution, HostRole, SiteSpec } from '../constructs';
import { UBUNTU_2404_CLOUD_IMAGE } from './common';

/**
 * Seed 004, "Multi-Cluster Kubernetes with HAProxy Load Balancer": HAProxy on lb.kube.com (10.0.1.10, API on 6443,
 * backends `fall 3 rise 2`) in front of two kubeadm control planes master1/master2 (10.0.1.11–12), workers
 * worker1/worker2 (10.0.1.13–14), every host in every node's /etc/hosts, Flannel.
 *
 * Two stacked etcd members tolerate no failure: the site synthesizes with that warning, as the seed is written.
 * Invented where the seed is silent: the /24, gateway and resolver 10.0.1.1, the Proxmox endpoint, node names,
 * VM ids and datastores; the API's DNS name is api.kube.com (lb.kube.com names the load balancer host itself).
 */
const kubeadmMulti: SiteSpec = {
  name: 'kubeadm-multi',
  description: 'kubeadm: 2 control planes (stacked etcd) and 2 workers behind HAProxy lb.kube.com, /etc/hosts on every node, Flannel',
  network: { cidr: '10.0.1.0/24', gateway: '10.0.1.1', dnsServers: ['10.0.1.1'], searchDomain: 'kube.com', etcHosts: true },
  proxmox: {
    endpoint: 'https://pve1.kube.com:8006/',
    nodes: ['pve1', 'pve2'],
    bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: UBUNTU_2404_CLOUD_IMAGE,
  },
  hosts: [
    { name: 'lb', ip: '10.0.1.10', vmId: 110, proxmoxNode: 'pve1', roles: [HostRole.LOAD_BALANCER] },
    { name: 'master1', ip: '10.0.1.11', vmId: 111, proxmoxNode: 'pve1', roles: [HostRole.CONTROL_PLANE] },
    { name: 'master2', ip: '10.0.1.12', vmId: 112, proxmoxNode: 'pve2', roles: [HostRole.CONTROL_PLANE] },
    { name: 'worker1', ip: '10.0.1.13', vmId: 113, proxmoxNode: 'pve1', roles: [HostRole.WORKER] },
    { name: 'worker2', ip: '10.0.1.14', vmId: 114, proxmoxNode: 'pve2', roles: [HostRole.WORKER] },
  ],
  apiEndpoint: { port: 6443 },
  // Invented where the seed is silent (it shows only "v1.xx.x"): Kubernetes 1.30.14 and CRI-O 1.30.14, seed 003's
  // 1.30 line at a later patch.
  versions: { kubernetes: '1.30.14', crio: '1.30.14' },
  controlPlane: { distribution: Distribution.KUBEADM },
  // Flannel's default pod network and kubeadm's default Service range.
  cluster: { cni: CniKind.FLANNEL, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12' },
  // The seed's backend checks; no ingress is wired for kubeadm sites yet, so HAProxy serves the API only.
  loadBalancer: { healthCheckFall: 3, healthCheckRise: 2, ingressFrontends: false },
};

export default kubeadmMulti;
