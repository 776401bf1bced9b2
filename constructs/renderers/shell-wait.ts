/** What {@link renderWaitLoop} waits for. */
export interface WaitLoop {
  /** A POSIX sh condition that succeeds once the wait is over, e.g. `curl -ksf ... | grep -q pong`. */
  readonly condition: string;
  /** Says what was awaited, in the failure message, e.g. `the API endpoint https://10.0.0.5:6443 to answer /ping`. */
  readonly description: string;
  /** The longest wait, measured as elapsed time (so slow tries cannot stretch it). */
  readonly timeoutSeconds: number;
  /** The pause between tries. @default 5 */
  readonly intervalSeconds?: number;
}

/**
 * Renders a POSIX sh loop that runs `condition` until it succeeds, and fails with a message naming what it waited
 * for and how long once `timeoutSeconds` have elapsed. The deadline is wall-clock time, not a count of tries:
 * a try that itself takes seconds (a curl timing out) does not lengthen the wait.
 */
export function renderWaitLoop(wait: WaitLoop): string {
  if (!Number.isInteger(wait.timeoutSeconds) || wait.timeoutSeconds < 1) {
    throw new Error(`wait for ${wait.description}: timeoutSeconds ${wait.timeoutSeconds} — expected a whole number of seconds, at least 1`);
  }
  const interval = wait.intervalSeconds ?? 5;
  const description = wait.description.split("'").join("'\\''");
  return `wait_started=$(date +%s)
wait_deadline=$((wait_started + ${wait.timeoutSeconds}))
until ${wait.condition}; do
  if [ "$(date +%s)" -ge "$wait_deadline" ]; then
    echo 'gave up waiting for ${description} after ${wait.timeoutSeconds} s' >&2
    exit 1
  fi
  sleep ${interval}
done`;
}
