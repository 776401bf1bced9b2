import { copyFileSync } from 'fs';
import { join } from 'path';
import { HostKind, SiteSpec } from '../../constructs';
import { LabHost, RollingLab } from './lab';
import { rollingSiteSpec } from './rolling-site';

/**
 * The rolling lab's load balancers as VMs: a VM's converge step first asks the Proxmox API for pending changes
 * (proxmox-restart-pending.sh, run where Terraform runs: a stand-in of that API, test/support/proxmox-api-standin.ts,
 * answers on loopback of the lab's client namespace), logs in as the site's admin user and waits for cloud-init.
 */

/** The load balancers as VMs on the given Proxmox nodes, the restart step pointed at the API stand-in's `endpoint`. */
export function vmSpec(hosts: ReadonlyMap<string, LabHost>, endpoint: string, nodes: Readonly<Record<string, string>>): SiteSpec {
  const spec = rollingSiteSpec(hosts, { extraServers: 0, healthCheckFall: 2 });
  return {
    ...spec,
    // The stand-in's certificate is self-signed: the restart step skips verification (curl -k), as the provider would.
    proxmox: { ...spec.proxmox, endpoint: `${endpoint}/`, insecureTls: true },
    hosts: spec.hosts.map((host) => (hosts.has(host.name) ? { ...host, kind: HostKind.VM, proxmoxNode: nodes[host.name] } : host)),
  };
}

/**
 * Acts out a VM's first boot on a lab host (vm-first-boot.sh): the lab runs no cloud-init, and a VM's converge step
 * logs in as the site's admin user and waits for cloud-init to have finished.
 */
export function actOutFirstBoot(lab: RollingLab, host: LabHost, adminUser: string, cloudInit: 'done' | 'running' = 'done'): void {
  copyFileSync(join(__dirname, 'vm-first-boot.sh'), join(`/proc/${host.initPid}/root`, 'tmp/vm-first-boot.sh'));
  const booted = lab.exec(host, `sh /tmp/vm-first-boot.sh ${adminUser} '${lab.publicKey}' ${cloudInit}`);
  if (booted.status !== 0) {
    throw new Error(`${host.name}: acting out the VM's first boot failed: ${booted.stderr}`);
  }
}
