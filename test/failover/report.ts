import { Measurement } from './scenarios';

type NumericKey = { [K in keyof Measurement]-?: NonNullable<Measurement[K]> extends number ? K : never }[keyof Measurement];

/** The numbers the lab reports, in table order (ms unless a count). */
export const METRICS: readonly NumericKey[] = [
  'failed', 'outageMs', 'vipMoveMs', 'preemptBackMs', 'preemptBacks', 'removalMs', 'markedDownMs', 'recoveryMs', 'closedAfterDownMs',
  'failedAfterMarkedDown', 'failedAfterHeal', 'splitBrainHolders', 'servedBeforeReady', 'vipMoves',
];

const single = (values: readonly (number | undefined)[]) => (values.length === 0 ? '-' : values[0] === undefined ? 'never' : String(Math.round(values[0])));

/**
 * One row per scenario and metric, the configurations side by side. A metric is shown for a scenario when some
 * configuration measured it there; where another did not (the event did not happen within the scenario's bounds)
 * it says "never". `cell` turns one configuration's values (one per repetition) into the cell's text.
 */
export function formatTable(results: Record<string, readonly Measurement[]>, cell: (values: readonly (number | undefined)[]) => string = single): string {
  const labels = Object.keys(results);
  const scenarios = [...new Set(labels.flatMap((label) => results[label].map((m) => m.scenario)))];
  const lines = [`| scenario | metric | ${labels.join(' | ')} |`, `|---|---|${labels.map(() => '---').join('|')}|`];
  for (const scenario of scenarios) {
    for (const metric of METRICS) {
      const values = labels.map((label) => results[label].filter((m) => m.scenario === scenario).map((m) => m[metric]));
      if (values.some((v) => v.some((x) => x !== undefined))) {
        lines.push(`| ${scenario} | ${metric} | ${values.map(cell).join(' | ')} |`);
      }
    }
  }
  return lines.join('\n');
}
