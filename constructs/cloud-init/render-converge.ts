import { CloudConfig } from './cloud-config';
import { SHELL_PRELUDE, shellScriptSections } from './render-shell';
import { shellQuote } from './shell-quote';

/** Options of {@link renderConvergeScript}. */
export interface ConvergeScriptOptions {
  /**
   * Wait for cloud-init's first boot to end before converging (VMs): the converge step may reach a VM while its
   * first boot still runs, and both would otherwise configure it at once.
   */
  readonly waitForCloudInit: boolean;
}

/** Runs gate checks: retries the check every second until it passes or the time is up, then stops the script. */
const GATE_FUNCTION = `# pkh_gate DESCRIPTION TIMEOUT BEFORE CHECK: retries CHECK (with $before set) until it passes or TIMEOUT s passed.
pkh_gate() {
  started=$(date +%s)
  until before=$3 timeout 20 sh -c "$4"; do
    if [ $(( $(date +%s) - started )) -ge "$2" ]; then
      echo "proxmox-k3s-ha: gate FAILED on $(hostname): $1 (not passed within $2 s); the rollout stops here" >&2
      exit 1
    fi
    sleep 1
  done
  echo "proxmox-k3s-ha: gate passed on $(hostname): $1"
}`;

const WAIT_FOR_CLOUD_INIT = `# --- first boot: let cloud-init finish (a failed first boot is finished by the steps below)
if command -v cloud-init >/dev/null 2>&1; then
  cloud-init status --wait >/dev/null 2>&1 || echo 'proxmox-k3s-ha: the first boot ended with an error; converging finishes it' >&2
fi`;

/**
 * Renders the script a converge step runs on a host that already exists, over SSH (VMs and LXC containers alike):
 * the idempotent shell rendering of the host's {@link CloudConfig} (files rewritten only when they differ, services
 * reloaded or restarted only when a file they read changed), then the host's health gates. Each gate's `before`
 * command runs first, before anything changes. A failed step or gate exits non-zero, naming the host and the check,
 * so the rollout stops there.
 */
export function renderConvergeScript(config: CloudConfig, options: ConvergeScriptOptions): string {
  const gates = config.gates;
  const lines = [SHELL_PRELUDE];
  if (options.waitForCloudInit) {
    lines.push(WAIT_FOR_CLOUD_INIT);
  }
  if (gates.length > 0) {
    lines.push(GATE_FUNCTION, '', '# --- what the gates compare with, before anything changes');
    gates.forEach((gate, i) => lines.push(`gate_${i + 1}_before=$(timeout 20 sh -c ${shellQuote(gate.before ?? 'true')} 2>/dev/null || true)`));
  }
  lines.push(...shellScriptSections(config, { bootCommands: !options.waitForCloudInit }));
  if (gates.length > 0) {
    lines.push('', '# --- health gates: the rollout moves on to the next host only when these pass');
    gates.forEach((gate, i) => lines.push(`pkh_gate ${shellQuote(gate.description)} ${gate.timeoutSeconds} "$gate_${i + 1}_before" ${shellQuote(gate.check)}`));
  }
  lines.push(`echo ${shellQuote(`proxmox-k3s-ha: ${config.hostname} converged`)}`);
  return `${lines.join('\n')}\n`;
}
