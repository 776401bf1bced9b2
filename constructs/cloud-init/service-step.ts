import { shellQuote } from './shell-quote';

/**
 * Services on a host and the files they read, so a later change to a file reloads or restarts only the services
 * that read it, and only when it really changed.
 *
 * Both renderings share one ledger of pending changes on the host ({@link PENDING_CHANGES_PATH}): the converge
 * script appends a path when it rewrites that file with different content, and the service step that watches the
 * path removes it once the service has taken the change. The step script's first run creates the ledger with every
 * watched path, so the first boot starts everything, and a re-run after a failed first run applies only the
 * services that run did not reach. A step that failed leaves its paths in the ledger, so the next run applies it
 * again. Without a ledger (a script run on its own, before any step script), every service step applies.
 */
export const PENDING_CHANGES_PATH = '/var/lib/proxmox-k3s-ha/pending-changes';

/**
 * The ledger's path as the scripts read it: `PKH_PENDING_CHANGES` overrides it, so tests that run the scripts on a
 * development machine keep it in their own directory.
 */
export const PENDING_CHANGES_SHELL = `"\${PKH_PENDING_CHANGES:-${PENDING_CHANGES_PATH}}"`;

/** How a service takes a change of the files it reads. */
export enum ServiceChange {
  /** `systemctl reload-or-restart`: reload a running service (no dropped connections), start a stopped one. */
  RELOAD = 'reload',
  /** `systemctl restart`: the service re-reads its files only when it starts (K3s, a changed unit file). */
  RESTART = 'restart',
}

/** A systemd service a role runs, and what makes it take changes. */
export interface CloudService {
  /** The systemd unit, e.g. `haproxy`. */
  readonly unit: string;
  /** Absolute paths of the files the service reads; a path is watched by one service only. */
  readonly watches: readonly string[];
  /** Reload or restart when a watched file changed. */
  readonly onChange: ServiceChange;
  /**
   * Commands that must pass before the change is applied (e.g. `haproxy -c -f …`): a failure stops the
   * configuration with the running service untouched.
   *
   * @default - none
   */
  readonly validate?: readonly string[];
  /**
   * Replaces the `systemctl` reload or restart, e.g. a reload followed by a restart only when a setting needs one.
   * Runs with the unit enabled; must start the service when it is stopped.
   *
   * @default - `systemctl reload-or-restart` or `systemctl restart`, by `onChange`
   */
  readonly apply?: string;
}

/** Shell functions the configure script defines for service steps (POSIX sh). */
export const SERVICE_STEP_FUNCTIONS = `pending=${PENDING_CHANGES_SHELL}
# pkh_pending PATH...: true without a ledger, or when one of the paths changed and its service did not take it yet.
pkh_pending() {
  [ -f "$pending" ] || return 0
  for path in "$@"; do
    grep -qxF "$path" "$pending" && return 0
  done
  return 1
}
# pkh_applied PATH...: the change of these paths is taken.
pkh_applied() {
  [ -f "$pending" ] || return 0
  for path in "$@"; do
    grep -vxF "$path" "$pending" > "$pending.tmp" || true
    mv -f "$pending.tmp" "$pending"
  done
}`;

/** The default apply command of a service. */
function applyCommand(service: CloudService): string {
  if (service.apply) {
    return service.apply;
  }
  return service.onChange === ServiceChange.RELOAD ? `systemctl reload-or-restart ${service.unit}` : `systemctl restart ${service.unit}`;
}

/**
 * The configure step of a service: when a watched file is pending (or the service is not running), validate,
 * reload systemd if a unit file changed, enable, apply, then mark the files applied.
 */
export function renderServiceStep(service: CloudService): string {
  const paths = service.watches.map(shellQuote).join(' ');
  const unitFileChanged = service.watches.some((path) => path.startsWith('/etc/systemd/system/'));
  return [
    `if pkh_pending ${paths} || ! systemctl is-active --quiet ${service.unit}; then`,
    ...(service.validate ?? []).map((command) => `  ${command}`),
    ...(unitFileChanged ? ['  systemctl daemon-reload'] : []),
    `  systemctl enable ${service.unit}`,
    ...applyCommand(service).split('\n').map((line) => `  ${line}`),
    `  pkh_applied ${paths}`,
    'fi',
  ].join('\n');
}

/** A health gate: what must hold on the host before a rollout moves on to the next one. */
export interface CloudGate {
  /** What is checked, in the words of the failure message, e.g. `haproxy serves and sees its API backends`. */
  readonly description: string;
  /**
   * A shell command run before the host's files change, whose output the check compares with (as `$before`), e.g.
   * the number of backends in rotation.
   *
   * @default - none (`$before` is empty)
   */
  readonly before?: string;
  /** A shell command that succeeds once the host is healthy; retried every second until `timeoutSeconds`. */
  readonly check: string;
  /** How long the check may take to pass. */
  readonly timeoutSeconds: number;
}
