import { createHash } from 'crypto';

/**
 * Unsafe changes against a previous synthesis, shared by the synth guard (`cdktf synth`) and the `plan` command:
 * their ids, the explicit acknowledgement that lets one through, and the error that stops a synthesis.
 */

/** Names a previous synthesis (a cdktf output folder, `stacks/<stack>/cdk.tf.json` inside) to compare with. */
export const BASELINE_ENV = 'PROXMOX_K3S_HA_BASELINE';

/** Comma-separated ids of unsafe changes the operator accepts (as printed next to each problem). */
export const ACCEPT_UNSAFE_ENV = 'PROXMOX_K3S_HA_ACCEPT_UNSAFE';

/**
 * A short id of one unsafe change, from its text: the same change gets the same id on every run, and a different
 * change (another version, another host) gets another, so an acknowledgement never lets an unseen problem through.
 */
export function unsafeChangeId(problem: string): string {
  return createHash('sha256').update(problem).digest('hex').slice(0, 8);
}

/** The ids in an {@link ACCEPT_UNSAFE_ENV} value (commas or spaces between them). */
export function acceptedUnsafeChangeIds(value: string | undefined): ReadonlySet<string> {
  return new Set((value ?? '').split(/[\s,]+/).map((id) => id.trim().toLowerCase()).filter(Boolean));
}

/** The problems split into those the operator accepted (by id) and those still blocking. */
export function splitAcceptedProblems(problems: readonly string[], accepted: ReadonlySet<string>): { accepted: string[]; blocking: string[] } {
  return {
    accepted: problems.filter((problem) => accepted.has(unsafeChangeId(problem))),
    blocking: problems.filter((problem) => !accepted.has(unsafeChangeId(problem))),
  };
}

/** One problem as a list item with its id: `  - [1a2b3c4d] site: path: value — why`. */
export function formatUnsafeChange(problem: string): string {
  return `  - [${unsafeChangeId(problem)}] ${problem}`;
}

/**
 * Thrown when a synthesis would make unsafe changes to a running site (a K3s downgrade, servers leaving below
 * quorum, ...), compared with the previous synthesis of the same stack. Nothing of the stack is written.
 */
export class UnsafeChangeError extends Error {
  /** The stack (site) the changes are in. */
  public readonly stackId: string;
  /** The previous synthesis compared with (a `cdk.tf.json`). */
  public readonly baselineFile: string;
  /** Every blocking problem, as `compareSyntheses` reports it; the message lists the same ones with their ids. */
  public declare readonly problems: readonly string[];

  constructor(stackId: string, baselineFile: string, problems: readonly string[]) {
    const count = problems.length === 1 ? '1 unsafe change' : `${problems.length} unsafe changes`;
    super([
      `stack ${stackId}: ${count} against its previous synthesis ${baselineFile} (kept as it was):`,
      ...problems.map(formatUnsafeChange),
      `Change the site, or accept them explicitly: ${ACCEPT_UNSAFE_ENV}=${problems.map(unsafeChangeId).join(',')}`,
    ].join('\n'));
    this.name = 'UnsafeChangeError';
    this.stackId = stackId;
    this.baselineFile = baselineFile;
    // Not enumerable: an uncaught error's dump would otherwise print the list a second time.
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
  }
}
