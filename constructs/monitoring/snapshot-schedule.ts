/**
 * The longest gap between two runs of K3s's etcd snapshot schedule, so the snapshot alert can say "older than twice
 * the schedule". The grammar is robfig/cron v3's standard parser as constructs/site/validate/cron.ts documents and
 * validates it (this module reads only schedules that passed that validation): five fields, `@every <duration>` or a
 * descriptor, an optional `CRON_TZ=` prefix (ignored here: a daylight-saving shift moves a gap by an hour at most).
 */

const DESCRIPTOR_GAPS: Readonly<Record<string, number>> = {
  '@hourly': 3600, '@daily': 86_400, '@midnight': 86_400, '@weekly': 7 * 86_400, '@monthly': 31 * 86_400, '@yearly': 366 * 86_400, '@annually': 366 * 86_400,
};
const NAMES: Readonly<Record<string, number>> = Object.fromEntries([
  ...['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, i) => [name, i + 1]),
  ...['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((name, i) => [name, i]),
]);
const BOUNDS: readonly (readonly [number, number])[] = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 6]];
const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

function fieldValues(field: string, [min, max]: readonly [number, number]): Set<number> {
  const values = new Set<number>();
  const valueOf = (text: string) => (/^\d+$/.test(text) ? Number(text) : NAMES[text.toLowerCase()]);
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/');
    // Validation refuses a step of 0; the bound keeps a loop finite whatever it is given.
    const step = Math.max(1, stepText === undefined ? 1 : Number(stepText) || 1);
    const [low, high] = range === '*' || range === '?' ? [min, max]
      : range.includes('-') ? range.split('-').map(valueOf) as [number, number]
        : [valueOf(range), stepText === undefined ? valueOf(range) : max];
    for (let value = low; value <= high; value += step) {
      values.add(value);
    }
  }
  return values;
}

/** Seconds of a Go duration such as `6h` or `1h30m`. */
function goDurationSeconds(text: string): number {
  return [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)].reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_SECONDS[unit], 0);
}

/** The longest time between two runs of `schedule`, in seconds, over two calendar years (leap day included). */
export function longestScheduleGapSeconds(schedule: string): number {
  const spec = schedule.trim().replace(/^(?:CRON_TZ|TZ)=\S*\s+/, '');
  if (spec.startsWith('@every ')) {
    return goDurationSeconds(spec.slice('@every '.length));
  }
  if (DESCRIPTOR_GAPS[spec] !== undefined) {
    return DESCRIPTOR_GAPS[spec];
  }
  const fields = spec.split(/\s+/);
  const [minutes, hours, days, months, weekdays] = fields.map((field, i) => fieldValues(field, BOUNDS[i]));
  // robfig/cron ORs day of month and day of week when both are restricted, else ANDs them.
  const restricted = (field: string) => !/^[*?](\/1)?$/.test(field);
  const bothDays = restricted(fields[2]) && restricted(fields[4]);
  const runs: number[] = [];
  const start = Date.UTC(2027, 0, 1);
  for (let day = 0; day < 731; day++) {
    const date = new Date(start + day * 86_400_000);
    const dom = days.has(date.getUTCDate());
    const dow = weekdays.has(date.getUTCDay());
    if (!months.has(date.getUTCMonth() + 1) || !(bothDays ? dom || dow : dom && dow)) {
      continue;
    }
    for (const hour of [...hours].sort((a, b) => a - b)) {
      for (const minute of [...minutes].sort((a, b) => a - b)) {
        runs.push(day * 86_400 + hour * 3600 + minute * 60);
      }
    }
  }
  // Fewer than two runs in two years (a 29 February schedule): the gap is at least the window.
  return runs.length < 2 ? 731 * 86_400 : runs.slice(1).reduce((longest, run, i) => Math.max(longest, run - runs[i]), 0);
}
