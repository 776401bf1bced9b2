import { SERVICE_STEP_FUNCTIONS, START_LEDGER_COMMAND } from './service-step';
import { shellQuote } from './shell-quote';

/**
 * The host's configuration steps as one script on the host, run at first provisioning by both renderings
 * (cloud-init's `runcmd` on VMs, the provisioning script on LXC) and again by hand or by a converge step.
 */
export const CONFIGURE_SCRIPT_PATH = '/usr/local/lib/proxmox-k3s-ha/configure.sh';

/** Marks the start of a step in {@link renderConfigureScript}; tests and operators find steps by it. */
export const CONFIGURE_STEP_MARKER = 'step ';

/**
 * The one-line label of a step in messages: its first line, shortened, single quotes shown as double ones (the
 * label is only read by people, and the LXC rendering quotes the whole script once more).
 */
function stepLabel(command: string): string {
  const firstLine = command.split('\n')[0].split("'").join('"');
  return firstLine.length > 100 || command.includes('\n') ? `${firstLine.slice(0, 100)}…` : firstLine;
}

/**
 * Renders the steps as a POSIX sh script that stops at the first failing step: `set -eu`, each step announced
 * (`proxmox-k3s-ha: step 2/5: …`) and, on failure, one line naming the step and its exit status, so the console,
 * `/var/log/cloud-init-output.log` and `cloud-init status` (an error in `scripts_user`) show where it stopped. The
 * steps are idempotent, so running the script again finishes what a failed run left.
 */
export function renderConfigureScript(commands: readonly string[]): string {
  const total = commands.length;
  const steps = commands.map((command, i) => `${CONFIGURE_STEP_MARKER}${shellQuote(`${i + 1}/${total}: ${stepLabel(command)}`)}\n${command}`);
  return `#!/bin/sh
# Configuration steps of this host (rendered by proxmox-k3s-ha): stops at the first failure; safe to run again.
# Step labels quote their command verbatim: nothing in them may expand.
# shellcheck disable=SC2016
set -eu
current=''
step() {
  current=$1
  echo "proxmox-k3s-ha: step $current"
}
report() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "proxmox-k3s-ha: configuration FAILED at step $current (exit status $status); fix the cause, then run ${CONFIGURE_SCRIPT_PATH} again" >&2
  fi
}
trap report EXIT
${SERVICE_STEP_FUNCTIONS}

${steps.join('\n\n')}

current=''
${START_LEDGER_COMMAND}
echo 'proxmox-k3s-ha: configuration complete (${total} steps)'
`;
}

/** The commands of a script rendered by {@link renderConfigureScript}, in order (the inverse, for tests and tools). */
export function configureScriptSteps(script: string): string[] {
  const body = script.slice(script.indexOf('trap report EXIT\n') + 'trap report EXIT\n'.length, script.lastIndexOf("\ncurrent=''\n"));
  return body.split(new RegExp(`^${CONFIGURE_STEP_MARKER}'[^\\n]*\\n`, 'm')).slice(1).map((chunk) => chunk.replace(/\n+$/, ''));
}
