import { readFileSync } from 'fs';
import { join } from 'path';
import { CloudConfig } from './cloud-config';
import { SHELL_PRELUDE, shellScriptSections } from './render-shell';
import { shellQuote } from './shell-quote';

/** How long a converge step waits, at most, for each thing it waits for. */
export interface ConvergeDeadlines {
  /** A VM's first boot (cloud-init) to end before converging. */
  readonly firstBootSeconds: number;
  /** The whole converge script: files, packages, configuration steps and health gates (the first-boot wait aside). */
  readonly convergeSeconds: number;
  /** Each systemctl call (start, restart, reload, stop) of the converge and the configuration steps it runs. */
  readonly serviceSeconds: number;
}

/** Options of {@link renderConvergeScript}. */
export interface ConvergeScriptOptions {
  /**
   * Wait for cloud-init's first boot to end before converging (VMs): the converge step may reach a VM while its
   * first boot still runs, and both would otherwise configure it at once.
   */
  readonly waitForCloudInit: boolean;
  /** The deadlines of the step's waits. */
  readonly deadlines: ConvergeDeadlines;
}

/** The converge steps' shell scripts, shipped as files in the package (and checked by shellcheck as they are). */
export enum ConvergeAsset {
  /** The deadline functions the converge script defines (first boot, the whole converge, systemctl). */
  DEADLINES = 'converge-deadlines.sh',
  /** systemctl with a deadline, put first on PATH during a converge. */
  SYSTEMCTL = 'systemctl-deadline.sh',
}

/** The directory of the asset files, beside this module (the build copies them next to the compiled code). */
export const CONVERGE_ASSET_DIR = join(__dirname, 'assets');

/** The text of a shipped converge script. */
export function convergeAsset(asset: ConvergeAsset): string {
  return readFileSync(join(CONVERGE_ASSET_DIR, asset), 'utf8');
}

/** The library's text without its shebang and header comment (it is rendered into a script that has its own). */
function libraryBody(text: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line !== '' && !line.startsWith('#'));
  return lines.slice(start).join('\n').trimEnd();
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

function wholeSeconds(name: keyof ConvergeDeadlines, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`deadlines.${name}: ${value} — expected a whole number of seconds, at least 1`);
  }
  return value;
}

/**
 * Renders the script a converge step runs on a host that already exists, over SSH (VMs and LXC containers alike):
 * the idempotent shell rendering of the host's {@link CloudConfig} (files rewritten only when they differ, services
 * reloaded or restarted only when a file they read changed), then the host's health gates. Each gate's `before`
 * command runs first, before anything changes. A failed step or gate exits non-zero, naming the host and the check,
 * so the rollout stops there. Every wait has a deadline ({@link ConvergeDeadlines}): the first boot, the whole
 * script (it runs itself again under it) and each systemctl call.
 */
export function renderConvergeScript(config: CloudConfig, options: ConvergeScriptOptions): string {
  const { deadlines } = options;
  const gates = config.gates;
  const lines = [
    SHELL_PRELUDE,
    '# --- deadlines (converge-deadlines.sh)',
    `pkh_host=${shellQuote(config.hostname)}`,
    `pkh_first_boot_seconds=${wholeSeconds('firstBootSeconds', deadlines.firstBootSeconds)}`,
    `pkh_converge_seconds=${wholeSeconds('convergeSeconds', deadlines.convergeSeconds)}`,
    `pkh_service_seconds=${wholeSeconds('serviceSeconds', deadlines.serviceSeconds)}`,
    libraryBody(convergeAsset(ConvergeAsset.DEADLINES)),
    '',
  ];
  if (options.waitForCloudInit) {
    lines.push('[ -n "${PKH_WITHIN_DEADLINE:-}" ] || pkh_wait_first_boot');
  }
  lines.push('pkh_within_deadline "$0"', `pkh_bound_services ${shellQuote(convergeAsset(ConvergeAsset.SYSTEMCTL))}`);
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
