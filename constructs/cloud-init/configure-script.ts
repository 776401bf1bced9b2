import { CloudConfig } from './cloud-config';
import { PENDING_CHANGES_SHELL, SERVICE_STEP_FUNCTIONS } from './service-step';
import { shellQuote } from './shell-quote';

/**
 * The host's configuration steps as one script on the host, run at first provisioning by both renderings
 * (cloud-init's `runcmd` on VMs, the provisioning script on LXC) and again by hand or by a converge step.
 */
export const CONFIGURE_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/configure.sh';

/** Marks the start of a step in {@link renderConfigureScript}; tests and operators find steps by it. */
export const CONFIGURE_STEP_MARKER = 'step ';

/** The label of the first step, which checks what the first boot installed and wrote (see {@link FirstBootCheck}). */
export const FIRST_BOOT_STEP_LABEL = 'first boot: packages installed, files written';

/**
 * Exists while the host's first configuration has not completed (beside the ledger of pending changes, so
 * `PKH_PENDING_CHANGES` moves both): only then may the step script ask cloud-init for the first boot's packages
 * and files again (later, the user data cloud-init kept is older than what converges wrote).
 */
const UNFINISHED_SHELL = '"$(dirname "$pending")/first-configuration-unfinished"';

/** What the first boot must have done before the steps can run: the host's packages and files. */
export interface FirstBootCheck {
  /** Package names, `name` or `name=version` as the builder holds them. */
  readonly packages: readonly string[];
  /** Every file the roles write, with the owner it must have. */
  readonly files: readonly { readonly path: string; readonly owner: string }[];
}

/** Options of {@link renderConfigureScript}. */
export interface ConfigureScriptOptions {
  /**
   * Checked by a first step: cloud-init goes on after a failed package install, and stops writing files at the
   * first one owned by a user that a missing package creates. Before the first configuration completed, a VM's
   * missing packages and files are asked from cloud-init once more (`cloud-init single`); what is still missing
   * ends the run naming the packages and files.
   *
   * @default - no such step
   */
  readonly firstBoot?: FirstBootCheck;
  /**
   * The files the host's services read. The first run marks them all pending in the ledger, so a re-run after a
   * failed first run applies only the services the failed run did not reach (no restart of a running etcd member).
   *
   * @default []
   */
  readonly watched?: readonly string[];
}

/**
 * The one-line label of a step in messages: its first line, shortened, single quotes shown as double ones (the
 * label is only read by people, and the LXC rendering quotes the whole script once more).
 */
function stepLabel(command: string): string {
  const firstLine = command.split('\n')[0].split("'").join('"');
  return firstLine.length > 100 || command.includes('\n') ? `${firstLine.slice(0, 100)}…` : firstLine;
}

/** How many unwritten files the failure line names before it says "and N more". */
const NAMED_FILES = 3;

/** The shell functions of the first step (`pkh_first_boot`), rendered with the host's packages and files. */
function firstBootFunctions(check: FirstBootCheck): string {
  const packageWords = check.packages.map(shellQuote).join(' ');
  return `# pkh_installed NAME[=VERSION]: the package is installed (at that version).
pkh_installed() {
  name=\${1%%=*}
  if [ "$name" != "$1" ]; then
    [ "$(dpkg-query -W -f='\${Status} \${Version}' "$name" 2>/dev/null)" = "install ok installed \${1#*=}" ]
  else
    [ "$(dpkg-query -W -f='\${Status}' "$name" 2>/dev/null)" = 'install ok installed' ]
  fi
}
# pkh_written PATH OWNER: the file exists with that owner (names or numbers).
pkh_written() {
  [ -e "$1" ] && { [ "$(stat -c %U:%G "$1")" = "$2" ] || [ "$(stat -c %u:%g "$1")" = "$2" ]; }
}
# pkh_first_boot_missing: sets $missing to the packages not installed and the files not written, on one line.
pkh_first_boot_missing() {
  packages=''
  files=''
  unwritten=0
${packageWords ? `  for package in ${packageWords}; do
    pkh_installed "$package" || packages="$packages $package"
  done
` : ''}${check.files.map((file) => `  pkh_written ${shellQuote(file.path)} ${shellQuote(file.owner)} || pkh_unwritten ${shellQuote(file.path)} ${shellQuote(file.owner)}`).join('\n')}
  missing=''
  [ -z "$packages" ] || missing="packages not installed:$packages"
  if [ "$unwritten" -gt ${NAMED_FILES} ]; then
    files="$files and $((unwritten - ${NAMED_FILES})) more"
  fi
  [ -z "$files" ] || missing="\${missing:+$missing; }files not written:$files"
}
pkh_unwritten() {
  unwritten=$((unwritten + 1))
  [ "$unwritten" -gt ${NAMED_FILES} ] || files="$files\${files:+,} $1 ($2)"
}
# pkh_first_boot: until the first configuration completed, the first boot's packages and files are in place. A VM
# asks cloud-init once more for what is missing (a failed package install, and the files after the first one it
# could not give its owner).
pkh_first_boot() {
  if [ ! -f ${UNFINISHED_SHELL} ]; then
    echo 'proxmox-k3s-ha: the first configuration completed before; nothing to check'
    return 0
  fi
  pkh_first_boot_missing
  if [ -n "$missing" ] && command -v cloud-init >/dev/null 2>&1 && [ -d "\${PKH_CLOUD_INSTANCE:-/var/lib/cloud/instance}" ]; then
    echo "proxmox-k3s-ha: the first boot left out $missing; running cloud-init's package and file modules again"
    cloud-init single --name package_update_upgrade_install --frequency always || true
    cloud-init single --name write_files_deferred --frequency always || true
    pkh_first_boot_missing
  fi
  reason=$missing
  [ -z "$missing" ]
}`;
}

/**
 * The step script of a host: `commands` (as the rendering runs them), the first boot's check of the host's packages
 * and files, and the files its services read.
 */
export function renderHostConfigureScript(config: CloudConfig, commands: readonly string[]): string {
  return renderConfigureScript(commands, {
    firstBoot: { packages: config.packages, files: config.files.map((file) => ({ path: file.path, owner: file.owner })) },
    watched: config.services.flatMap((service) => service.watches),
  });
}

/**
 * Renders the steps as a POSIX sh script that stops at the first failing step: `set -eu`, each step announced
 * (`proxmox-k3s-ha: step 2/5: …`) and, on failure, one line naming the step, what it found (the first boot's
 * missing packages and files) and its exit status, so the console, `/var/log/cloud-init-output.log` and
 * `cloud-init status` (an error in `scripts_user`) show where it stopped. The steps are idempotent, so running the
 * script again finishes what a failed run left; a service the failed run already applied is not applied again.
 */
export function renderConfigureScript(commands: readonly string[], options: ConfigureScriptOptions = {}): string {
  const check = options.firstBoot && (options.firstBoot.packages.length > 0 || options.firstBoot.files.length > 0) ? options.firstBoot : undefined;
  const total = commands.length + (check ? 1 : 0);
  const labels = [...(check ? [FIRST_BOOT_STEP_LABEL] : []), ...commands.map(stepLabel)];
  const bodies = [...(check ? ['pkh_first_boot'] : []), ...commands];
  const steps = bodies.map((body, i) => `${CONFIGURE_STEP_MARKER}${shellQuote(`${i + 1}/${total}: ${labels[i]}`)}\n${body}`);
  const watched = options.watched ?? [];
  return `#!/bin/sh
# Configuration steps of this host (rendered by proxmox-k3s-ha): stops at the first failure; safe to run again.
# Step labels quote their command verbatim: nothing in them may expand.
# shellcheck disable=SC2016
set -eu
current=''
reason=''
step() {
  current=$1
  reason=''
  echo "proxmox-k3s-ha: step $current"
}
report() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "proxmox-k3s-ha: configuration FAILED at step $current\${reason:+: $reason} (exit status $status); fix the cause, then run ${CONFIGURE_SCRIPT_PATH} again" >&2
  fi
}
trap report EXIT
${SERVICE_STEP_FUNCTIONS}
${check ? `${firstBootFunctions(check)}\n` : ''}
# The first run marks every service's files pending; each service step clears its own once applied.
if [ ! -f ${PENDING_CHANGES_SHELL} ]; then
  mkdir -p "$(dirname "$pending")"
  : > ${UNFINISHED_SHELL}
  ${watched.length > 0 ? `printf '%s\\n' ${watched.map(shellQuote).join(' ')} > "$pending"` : ': > "$pending"'}
fi

${steps.join('\n\n')}

current=''
rm -f ${UNFINISHED_SHELL}
echo 'proxmox-k3s-ha: configuration complete (${total} steps)'
`;
}

/**
 * The roles' commands of a script rendered by {@link renderConfigureScript}, in order (the inverse, for tests and
 * tools): the first-boot check, which no role added, is left out.
 */
export function configureScriptSteps(script: string): string[] {
  const body = script.slice(script.indexOf('trap report EXIT\n') + 'trap report EXIT\n'.length, script.lastIndexOf("\ncurrent=''\n"));
  const chunks = body.split(new RegExp(`^${CONFIGURE_STEP_MARKER}'[^\\n]*\\n`, 'm'));
  const labels = [...body.matchAll(new RegExp(`^${CONFIGURE_STEP_MARKER}'\\d+/\\d+: ([^\\n]*)'$`, 'gm'))].map((match) => match[1]);
  return chunks.slice(1).map((chunk) => chunk.replace(/\n+$/, '')).filter((_, i) => labels[i] !== FIRST_BOOT_STEP_LABEL);
}
