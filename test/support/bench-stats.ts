/**
 * Statistics and tables the benchmarks print (`npm run bench:*`): "median / max" of the runs, and Markdown tables
 * of such cells.
 */

/** How a number is printed: rounded to an integer unless a bench says otherwise. */
export type NumberFormat = (value: number) => string;
const rounded: NumberFormat = (value) => `${Math.round(value)}`;

/** The median (the upper middle value of an even count) and the maximum; undefined without values. */
export function medianAndMax(values: readonly number[]): { readonly median: number; readonly max: number } | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

/** "median / max" of the values, each printed by `format` (rounded by default); "-" without values. */
export function medianMax(values: readonly number[], format: NumberFormat = rounded): string {
  const stats = medianAndMax(values);
  return stats === undefined ? '-' : `${format(stats.median)} / ${format(stats.max)}`;
}

/**
 * "median / max" of runs that may never have got there (undefined), followed by "(N× never)" when some did not;
 * "never" when none did, "-" without runs.
 */
export function medianMaxOfRuns(values: readonly (number | undefined)[]): string {
  const known = values.filter((value): value is number => value !== undefined);
  const nevers = values.length - known.length;
  if (known.length === 0) {
    return values.length === 0 ? '-' : 'never';
  }
  return `${medianMax(known)}${nevers ? ` (${nevers}× never)` : ''}`;
}

/** A Markdown table: the header row, its separator, then one row per entry (cells as given). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}
