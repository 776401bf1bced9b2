import { CloudConfig } from '../cloud-init/cloud-config';

const ROLE = 'k3s-node';

/**
 * Kernel prerequisites of every K3s node (server or agent): the overlay filesystem for containerd, bridged
 * traffic visible to iptables (Service routing), IP forwarding, and inotify limits high enough for kubelet and
 * log-following pods.
 */
export function applyK3sNodePrerequisites(config: CloudConfig): void {
  config.addKernelModule(ROLE, 'overlay');
  config.addKernelModule(ROLE, 'br_netfilter');
  config.addSysctl(ROLE, 'net.ipv4.ip_forward', 1);
  config.addSysctl(ROLE, 'net.bridge.bridge-nf-call-iptables', 1);
  config.addSysctl(ROLE, 'net.bridge.bridge-nf-call-ip6tables', 1);
  config.addSysctl(ROLE, 'fs.inotify.max_user_instances', 8192);
  config.addSysctl(ROLE, 'fs.inotify.max_user_watches', 524288);
}
