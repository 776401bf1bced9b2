import { CloudConfig, CloudFile, FileEncoding } from './cloud-config';
import { CONFIGURE_SCRIPT_PATH, renderHostConfigureScript } from './configure-script';
import { aptKeyPath, provisioningCommands } from './render-cloud-config';
import { PENDING_CHANGES_SHELL } from './service-step';
import { shellQuote } from './shell-quote';


const BOOT_SCRIPT = '/usr/local/lib/proxmox-k3s-ha/boot.sh';
const BOOT_UNIT = '/etc/systemd/system/proxmox-k3s-ha-boot.service';

/** The start of every provisioning or converge script: strict mode and the file installer. */
export const SHELL_PRELUDE = `#!/bin/sh
# Provisioning script rendered by proxmox-k3s-ha. Idempotent: running it again converges to the same state.
# File contents are single-quoted on purpose: nothing in them may expand.
# shellcheck disable=SC2016
set -eu
export DEBIAN_FRONTEND=noninteractive

pending=${PENDING_CHANGES_SHELL}
# pkh_failed WHAT: ends the run with one line naming what failed before the step script could run.
pkh_failed() {
  echo "proxmox-k3s-ha: configuration FAILED before its steps: $1; fix the cause, then run $0 again" >&2
  exit 1
}
# install_file PATH MODE OWNER < CONTENT: replaces PATH only when the content differs, and then records it in the
# ledger of pending changes (once the step script created it) when a service reads it, so it takes the change.
install_file() {
  mkdir -p "$(dirname "$1")"
  tmp=$(mktemp "$1.XXXXXX")
  cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$1"
    if [ -f "$pending" ] && watched "$1" && ! grep -qxF "$1" "$pending"; then
      printf '%s\\n' "$1" >> "$pending"
    fi
  fi
  chmod "$2" "$1"
  chown "$3" "$1" 2>/dev/null || pkh_failed "file $1 cannot be given its owner $3 (a user or group its package creates is missing)"
}
# installed NAME [VERSION]: the package is installed (at that version).
installed() {
  if [ $# -eq 2 ]; then
    [ "$(dpkg-query -W -f='\${Status} \${Version}' "$1" 2>/dev/null)" = "install ok installed $2" ]
  else
    [ "$(dpkg-query -W -f='\${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]
  fi
}
# pkh_packages_failed NAME[=VERSION]...: after a failed apt-get, ends the run naming the packages still missing.
pkh_packages_failed() {
  status=$?
  missing=''
  for package in "$@"; do
    if [ "\${package%%=*}" != "$package" ]; then
      installed "\${package%%=*}" "\${package#*=}" || missing="$missing $package"
    else
      installed "$package" || missing="$missing $package"
    fi
  done
  pkh_failed "packages not installed:$missing (apt-get exit status $status): the files and steps were not reached"
}
`;

function writeFile(file: Required<CloudFile>): string {
  const decode = file.encoding === FileEncoding.BASE64 ? ' | base64 -d' : '';
  return `printf '%s' ${shellQuote(file.content)}${decode} | install_file ${shellQuote(file.path)} ${file.mode} ${shellQuote(file.owner)}`;
}

function writeTextFile(path: string, content: string, mode: string, owner: string): string {
  return writeFile({ path, content, mode, owner, encoding: FileEncoding.TEXT });
}

/**
 * Renders the same content as {@link renderCloudConfig} as a POSIX shell script for an LXC container, in the same
 * order: the step script (in place before anything can fail, as on a VM), users, apt sources, packages, files,
 * boot commands (installed as a oneshot systemd unit and run now), then the step script runs: kernel modules
 * (checked, since a container cannot load them), sysctls, the roles' commands. A failed package install or a file
 * whose owner is missing ends the run with one line naming the packages or the file.
 */
export function renderShellScript(config: CloudConfig): string {
  return `${[SHELL_PRELUDE, ...shellScriptSections(config, { bootCommands: true })].join('\n')}\n`;
}

/** What {@link shellScriptSections} renders besides users, packages, files and commands. */
export interface ShellSectionOptions {
  /** Install the boot commands as a oneshot unit (LXC); a VM's cloud-init runs them at every boot itself. */
  readonly bootCommands: boolean;
}

/** The body of {@link renderShellScript} (everything after the prelude), as lines; the converge script reuses it. */
export function shellScriptSections(config: CloudConfig, options: ShellSectionOptions): string[] {
  // The files a service reads: install_file records only these in the ledger of pending changes.
  const watched = config.services.flatMap((service) => service.watches);
  const lines: string[] = [`watched() { case "$1" in ${watched.length > 0 ? `${watched.map(shellQuote).join(' | ')}) return 0 ;; ` : ''}*) return 1 ;; esac; }`];
  const section = (title: string) => lines.push('', `# --- ${title}`);
  const commands = provisioningCommands(config).map((command) => {
    const module = /^modprobe ([a-z0-9_-]+)$/.exec(command)?.[1];
    // A container cannot load kernel modules: accept one the Proxmox host already loaded, else say which.
    return module
      ? `[ -d /sys/module/${module} ] || modprobe ${module} || { echo "kernel module ${module} is not loaded: load it on the Proxmox host (modprobe ${module}; echo ${module} >> /etc/modules-load.d/k3s.conf)" >&2; exit 1; }`
      : command;
  });
  if (commands.length > 0) {
    // As on a VM, the step script is in place before anything can fail, to be run again once the cause is fixed.
    section('the step script first (run last, below)');
    lines.push(writeTextFile(CONFIGURE_SCRIPT_PATH, renderHostConfigureScript(config, commands), '0755', 'root:root'));
  }

  if (config.users.length > 0) {
    section('users');
    for (const user of config.users) {
      const name = shellQuote(user.name);
      lines.push(`id -u ${name} >/dev/null 2>&1 || useradd --create-home --shell ${shellQuote(user.shell ?? '/bin/bash')} ${name}`);
      if (user.groups && user.groups.length > 0) {
        lines.push(`usermod --append --groups ${shellQuote(user.groups.join(','))} ${name}`);
      }
      lines.push(`home=$(getent passwd ${name} | cut -d: -f6)`);
      lines.push(writeTextFile('$home/.ssh/authorized_keys', user.sshAuthorizedKeys.map((k) => `${k}\n`).join(''), '0600', `${user.name}:${user.name}`)
        .replace(shellQuote('$home/.ssh/authorized_keys'), '"$home/.ssh/authorized_keys"'));
      lines.push(`chmod 0700 "$home/.ssh" && chown ${shellQuote(`${user.name}:${user.name}`)} "$home/.ssh"`);
      if (user.sudo) {
        lines.push(writeTextFile(`/etc/sudoers.d/90-${user.name}`, `${user.name} ALL=(ALL) NOPASSWD:ALL\n`, '0440', 'root:root'));
      }
    }
  }
  if (config.aptSources.length > 0) {
    section('apt sources');
    for (const source of config.aptSources) {
      if (source.key) {
        lines.push(writeTextFile(aptKeyPath(source.name), source.key, '0644', 'root:root'));
      }
      const line = source.key ? source.source.split('$KEY_FILE').join(aptKeyPath(source.name)) : source.source;
      lines.push(writeTextFile(`/etc/apt/sources.list.d/${source.name}.list`, `${line}\n`, '0644', 'root:root'));
    }
  }
  if (config.packages.length > 0) {
    section('packages (apt only when one is missing, so converging an installed host needs no repository)');
    const checks = config.packages.map((name) => {
      const [pkg, version] = name.split('=');
      return version ? `installed ${shellQuote(pkg)} ${shellQuote(version)}` : `installed ${shellQuote(pkg)}`;
    });
    const names = config.packages.map(shellQuote).join(' ');
    lines.push(`if ! { ${checks.join(' && ')}; }; then`);
    lines.push(`  apt-get update || pkh_packages_failed ${names}`);
    lines.push(`  apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold ${names} || pkh_packages_failed ${names}`);
    lines.push('fi');
  }
  if (!config.manageEtcHosts) {
    section('/etc/hosts is written below: Proxmox must not rewrite it when the container starts');
    lines.push(writeTextFile('/etc/.pve-ignore.hosts', '', '0644', 'root:root'));
  }
  if (config.files.length > 0) {
    section('files');
    for (const file of config.files) {
      lines.push(writeFile(file));
    }
  }
  if (options.bootCommands && config.bootCommands.length > 0) {
    section('boot commands (every boot)');
    const script = `#!/bin/sh\nset -eu\n${config.bootCommands.join('\n')}\n`;
    lines.push(writeTextFile(BOOT_SCRIPT, script, '0755', 'root:root'));
    const unit = `[Unit]\nDescription=proxmox-k3s-ha boot commands\nDefaultDependencies=no\nAfter=local-fs.target\n\n[Service]\nType=oneshot\nExecStart=${BOOT_SCRIPT}\n\n[Install]\nWantedBy=multi-user.target\n`;
    lines.push(writeTextFile(BOOT_UNIT, unit, '0644', 'root:root'));
    lines.push('systemctl daemon-reload', 'systemctl enable proxmox-k3s-ha-boot.service', BOOT_SCRIPT);
  }
  if (commands.length > 0) {
    section('commands: the same step script a VM runs from runcmd');
    lines.push(CONFIGURE_SCRIPT_PATH);
  }
  return lines;
}
