import { stringify } from 'yaml';
import { CloudConfig, FileEncoding, SYSCTL_FILE } from './cloud-config';
import { CONFIGURE_SCRIPT_PATH, renderHostConfigureScript } from './configure-script';

/** Where `$KEY_FILE` points for an apt source's key (the same path on VMs and LXC). */
export function aptKeyPath(name: string): string {
  return `/etc/apt/keyrings/${name}.asc`;
}

/** The first-provisioning commands both renderings run: load modules, apply sysctls, then the roles' commands. */
export function provisioningCommands(config: CloudConfig): string[] {
  return [
    ...config.kernelModules.map((module) => `modprobe ${module}`),
    ...(config.sysctls.length > 0 ? [`sysctl -p ${SYSCTL_FILE}`] : []),
    ...config.commands,
  ];
}

/**
 * Renders `#cloud-config` YAML for a VM.
 *
 * The commands run from one step script ({@link renderHostConfigureScript}) that stops at the first failure, exactly
 * as the LXC rendering does.
 *
 * Every role file is written with `defer: true`, so cloud-init's order (users, apt sources, packages, files, then
 * `runcmd`) matches the LXC shell script, and files may be owned by users that packages create. The step script
 * itself (root's) is written before the packages, in cloud-init's first stage: a failed package install makes
 * cloud-init stop writing the deferred files at the first one whose owner is missing, and the step script must
 * still be there to say what is missing and to finish the job once the cause is fixed.
 */
export function renderCloudConfig(config: CloudConfig): string {
  const document: Record<string, unknown> = {
    hostname: config.hostname,
    fqdn: config.fqdn,
    prefer_fqdn_over_hostname: false,
    // A role that writes /etc/hosts itself (writeEtcHosts) turns cloud-init's rewrite at every boot off.
    manage_etc_hosts: config.manageEtcHosts,
  };
  if (config.users.length > 0) {
    document.users = config.users.map((user) => ({
      name: user.name,
      shell: user.shell ?? '/bin/bash',
      lock_passwd: true,
      ...(user.groups && user.groups.length > 0 ? { groups: user.groups.join(', ') } : {}),
      ...(user.sudo ? { sudo: 'ALL=(ALL) NOPASSWD:ALL' } : {}),
      ssh_authorized_keys: [...user.sshAuthorizedKeys],
    }));
    document.ssh_pwauth = false;
    document.disable_root = true;
  }
  if (config.aptSources.length > 0) {
    document.apt = {
      preserve_sources_list: true,
      sources: Object.fromEntries(config.aptSources.map((source) => [
        `${source.name}.list`,
        { source: source.key ? source.source.split('$KEY_FILE').join(aptKeyPath(source.name)) : source.source },
      ])),
    };
  }
  document.package_update = config.packages.length > 0 || config.aptSources.length > 0;
  document.package_upgrade = false;
  if (config.packages.length > 0) {
    document.packages = [...config.packages];
  }
  const keyFiles = config.aptSources.filter((s) => s.key).map((s) => ({ path: aptKeyPath(s.name), content: s.key!, permissions: '0644', owner: 'root:root' }));
  const commands = provisioningCommands(config);
  // runcmd would run its list as one plain sh script, going on after a failed step; the step script stops there.
  const configureScript = commands.length > 0
    ? [{ path: CONFIGURE_SCRIPT_PATH, content: renderHostConfigureScript(config, commands), permissions: '0755', owner: 'root:root' }] : [];
  const files = config.files.map((file) => ({
    path: file.path, content: file.content, ...(file.encoding === FileEncoding.BASE64 ? { encoding: 'b64' } : {}), permissions: file.mode, owner: file.owner, defer: true,
  }));
  if (keyFiles.length + configureScript.length + files.length > 0) {
    // Keys must exist before apt reads the sources, and the step script before anything can fail: not deferred.
    document.write_files = [...keyFiles, ...configureScript, ...files];
  }
  if (config.bootCommands.length > 0) {
    document.bootcmd = [...config.bootCommands];
  }
  if (commands.length > 0) {
    document.runcmd = [[CONFIGURE_SCRIPT_PATH]];
  }
  return `#cloud-config\n${stringify(document, { lineWidth: 0, blockQuote: 'literal' })}`;
}
