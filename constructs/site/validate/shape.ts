import { ProblemCollector } from '../../core/problems';

/** Type guards that report a problem when a part of the spec has the wrong shape (site files may be plain JS). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(problems: ProblemCollector, path: string, value: unknown): value is Record<string, unknown> {
  return problems.check(isObject(value), path, value, 'an object');
}

export function expectNonEmptyArray(problems: ProblemCollector, path: string, value: unknown, what: string): value is readonly unknown[] {
  return problems.check(Array.isArray(value) && value.length > 0, path, value, `a non-empty list of ${what}`);
}

/** Reports every value that occurs more than once, at each later occurrence, naming the first. */
export function reportDuplicates<T>(
  problems: ProblemCollector,
  items: readonly { path: string; value: T }[],
  what: string,
): void {
  const firstSeen = new Map<T, string>();
  for (const item of items) {
    const first = firstSeen.get(item.value);
    if (first === undefined) {
      firstSeen.set(item.value, item.path);
    } else {
      problems.add(item.path, item.value, `a unique ${what} (already used by ${first})`);
    }
  }
}

/** Reports keys a section does not know: a misspelled optional key would otherwise be ignored silently. */
export function reportUnknownKeys(problems: ProblemCollector, path: string, value: unknown, known: readonly string[]): void {
  if (!isObject(value)) {
    return;
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      problems.add(path ? `${path}.${key}` : key, value[key], `no such key here; known keys: ${known.join(', ')}`);
    }
  }
}
