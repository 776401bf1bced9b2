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

/** Longest rendering of a value in an error message; the rest is cut with `...`. */
const MAX_RENDERED_VALUE = 120;

/**
 * Renders a value for an error message: JSON for data, a marker for `undefined`. Never throws, whatever the value
 * (a BigInt, a cycle, a Symbol, a Proxy, a getter that throws), so a bad value is reported instead of crashing.
 */
export function formatValue(value: unknown): string {
  if (value === undefined) {
    return '(missing)';
  }
  let text: string;
  try {
    text = JSON.stringify(value, jsonSafe()) ?? describe(value);
  } catch {
    text = describe(value);
  }
  return text.length > MAX_RENDERED_VALUE ? `${text.slice(0, MAX_RENDERED_VALUE - 3)}...` : text;
}

/** A JSON replacer for values JSON has no form for: BigInts as `12n`, objects met again (a cycle) as `[repeated]`. */
function jsonSafe(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === 'bigint') {
      return `${value}n`;
    }
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) {
        return '[repeated]';
      }
      seen.add(value);
    }
    return value;
  };
}

/** A short description of a value JSON cannot render (a function, a Symbol, an unreadable object). */
function describe(value: unknown): string {
  try {
    if (typeof value === 'symbol' || typeof value === 'bigint') {
      return String(value);
    }
    if (typeof value === 'function') {
      return `[function ${value.name || '(anonymous)'}]`;
    }
    return Object.prototype.toString.call(value);
  } catch {
    return `[${typeof value}]`;
  }
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

  /** Paths reported with {@link addFinal}: nothing more is reported at or below them. */
  private readonly settled: string[] = [];

  /**
   * Records one problem: the field `path`, the `value` received and what was `expected` instead. Skipped when
   * `path` lies at or below a path already reported with {@link addFinal} (it would only repeat that problem).
   */
  public add(path: string, value: unknown, expected: string): void {
    if (this.settled.some((settled) => isAtOrBelow(path, settled))) {
      return;
    }
    this.collected.push({ path, value, expected });
  }

  /**
   * Records a problem that stands for everything at and below `path` (the value there cannot be read or used at
   * all), so the checks that follow do not report its consequences again.
   */
  public addFinal(path: string, value: unknown, expected: string): void {
    this.add(path, value, expected);
    this.settled.push(path);
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

/** `hosts[1].roles[0]` lies below `hosts[1]` and `hosts`, not below `hosts[10]` or `host`. */
function isAtOrBelow(path: string, ancestor: string): boolean {
  return path === ancestor || (path.startsWith(ancestor) && (path[ancestor.length] === '.' || path[ancestor.length] === '['));
}
