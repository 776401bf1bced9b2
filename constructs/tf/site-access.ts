import { TerraformStack, TerraformVariable } from 'cdktf';
import { SitePlan } from '../site/plan';
import { ProxmoxProvider } from './generated/providers/proxmox/provider';
import type { ProxmoxApiAccess } from './lifecycle';
import { escapeTerraformTemplate } from './terraform-template';

/** How the stack reaches the hosts: the admin's public key and the private key the converge steps connect with. */
export interface SiteAccess {
  /** The `admin_ssh_public_key` variable. */
  readonly adminPublicKey: string;
  /** The sensitive `ssh_private_key` variable. */
  readonly sshPrivateKey: string;
}

/** Declares the SSH key variables every site needs (keys never appear in the stack itself). */
export function declareSiteAccess(stack: TerraformStack, site: SitePlan): SiteAccess {
  const adminKey = new TerraformVariable(stack, 'admin_ssh_public_key', {
    type: 'string',
    description: `SSH public key of the admin user "${site.access.adminUser}" on every host`,
  });
  const sshKey = new TerraformVariable(stack, 'ssh_private_key', {
    type: 'string',
    sensitive: true,
    description: 'private key matching admin_ssh_public_key: the converge steps configure the hosts over SSH with it',
  });
  return { adminPublicKey: adminKey.stringValue, sshPrivateKey: sshKey.stringValue };
}

/** The bpg/proxmox provider and the API access the converge steps restart VMs through. */
export interface SiteProxmox {
  readonly provider: ProxmoxProvider;
  readonly api: ProxmoxApiAccess;
}

/** The provider, with its API token from the sensitive `proxmox_api_token` variable. */
export function configureProxmoxProvider(stack: TerraformStack, site: SitePlan): SiteProxmox {
  const apiToken = new TerraformVariable(stack, 'proxmox_api_token', {
    type: 'string',
    sensitive: true,
    description: 'Proxmox VE API token, "user@realm!tokenid=secret"',
  });
  const provider = new ProxmoxProvider(stack, 'proxmox', {
    endpoint: escapeTerraformTemplate(site.proxmox.endpoint),
    apiToken: apiToken.stringValue,
    insecure: site.proxmox.insecureTls,
    // Snippet uploads go over SSH to the node (the API cannot write snippets).
    ssh: { agent: true, username: site.proxmox.sshUser },
  });
  return { provider, api: { endpoint: site.proxmox.endpoint, apiToken: apiToken.stringValue, insecureTls: site.proxmox.insecureTls } };
}
