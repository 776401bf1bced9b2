/**
 * One thing wrong with an input, reported as `path: value — what was expected`.
 */
export interface Problem {
  /** Where the bad value sits, e.g. `hosts[2].ip`. */
  readonly path: string;
  /** The value received (rendered as JSON in messages). */
  readonly value: unknown;
  /** What was expected instead, lower-case, no trailing period. */
  readonly expected: string;
}

/** Renders a value for an error message: JSON for data, a marker for `undefined`. */
export function formatValue(value: unknown): string {
  if (value === undefined) {
    return '(missing)';
  }
  const json = JSON.stringify(value);
  if (json === undefined) {
    return String(value);
  }
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** `path: value — expected`, the one line format of every validation problem. */
export function formatProblem(problem: Problem): string {
  return `${problem.path}: ${formatValue(problem.value)} — ${problem.expected}`;
}

/**
 * Thrown when an input has problems; lists every one of them, so a typo is fixed in one round.
 */
export class ValidationError extends Error {
  /** Every problem found, in the order they were reported; the message lists the same ones. */
  public readonly problems: readonly Problem[];

  constructor(subject: string, problems: readonly Problem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super([`${subject} has ${count}:`, ...problems.map((p) => `  - ${formatProblem(p)}`)].join('\n'));
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Collects problems so validation can go on after the first and report everything at once. */
export class ProblemCollector {
  private readonly collected: Problem[] = [];

  /** Records one problem: the field `path`, the `value` received and what was `expected` instead. */
  public add(path: string, value: unknown, expected: string): void {
    this.collected.push({ path, value, expected });
  }

  /** Adds a problem when `ok` is false; returns `ok` so callers can skip dependent checks. */
  public check(ok: boolean, path: string, value: unknown, expected: string): boolean {
    if (!ok) {
      this.add(path, value, expected);
    }
    return ok;
  }

  /** The problems collected so far, in the order they were added. */
  public get problems(): readonly Problem[] {
    return this.collected;
  }

  /** True while no problem has been collected. */
  public get isEmpty(): boolean {
    return this.collected.length === 0;
  }

  /** Throws a {@link ValidationError} naming every problem collected so far, if any. */
  public throwIfAny(subject: string): void {
    if (!this.isEmpty) {
      throw new ValidationError(subject, this.collected);
    }
  }
}
