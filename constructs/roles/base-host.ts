import { CloudConfig } from '../cloud-init/cloud-config';
import { HostKind } from '../site/spec';
import { HostPlan, SitePlan } from '../site/plan';
import { applyHostExporters } from './host-exporters';

const ROLE = 'base';

/**
 * What every host gets: the admin user with its SSH keys, and on VMs the QEMU guest agent (Proxmox reads the
 * addresses and shuts down cleanly through it) and time sync (etcd, TLS and Raft-like elections need agreeing
 * clocks). Containers share the Proxmox host's clock and have no guest agent. Every host serves its metrics exporters.
 *
 * @param sshAuthorizedKeys the admin keys; may hold Terraform references (e.g. a variable)
 */
export function applyBaseHost(config: CloudConfig, plan: SitePlan, host: HostPlan, sshAuthorizedKeys: readonly string[]): void {
  config.addUser(ROLE, {
    name: plan.access.adminUser,
    sshAuthorizedKeys: [...sshAuthorizedKeys, ...plan.access.sshAuthorizedKeys],
    sudo: true,
    groups: ['adm', 'sudo'],
  });
  applyHostExporters(config, plan, host);
  if (host.kind !== HostKind.VM) {
    return;
  }
  config.addPackages(ROLE, 'qemu-guest-agent');
  config.addCommand(ROLE, 'systemctl enable --now qemu-guest-agent');
  if (plan.access.ntpServers.length > 0) {
    config.addFile(ROLE, {
      path: '/etc/systemd/timesyncd.conf.d/50-proxmox-k3s-ha.conf',
      content: `[Time]\nNTP=${plan.access.ntpServers.join(' ')}\n`,
    });
  }
  config.addCommand(ROLE, `timedatectl set-timezone ${plan.access.timezone}`);
  config.addCommand(ROLE, 'timedatectl set-ntp true');
  config.addCommand(ROLE, 'systemctl restart systemd-timesyncd');
}
