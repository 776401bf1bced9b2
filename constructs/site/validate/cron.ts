/**
 * K3s schedules embedded-etcd snapshots with robfig/cron v3's standard parser (`cron.New()` in K3s's pkg/etcd, then
 * `e.cron.AddFunc(e.config.EtcdSnapshotCron, …)` in setSnapshotFunction, whose error is ignored): a schedule it
 * cannot parse, or one that never fires, silently takes no snapshot at all. This is that parser's grammar
 * (robfig/cron v3 parser.go: `standardParser` = Minute | Hour | Dom | Month | Dow | Descriptor): five fields of
 * comma-separated `*`/`?`/`n`/`a-b`, each with an optional `/step`; month and weekday names; the descriptors
 * `@yearly @annually @monthly @weekly @daily @midnight @hourly` and `@every <duration>`.
 */

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTH_NAMES = Object.fromEntries(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, i) => [name, i + 1]));
const DAY_NAMES = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((name, i) => [name, i]));
const FIELDS: readonly (Bounds & { readonly name: string })[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day of week', min: 0, max: 6, names: DAY_NAMES },
];
const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
/** Go's time.ParseDuration: a sequence of decimal numbers with units ns, us, µs, ms, s, m, h. */
const GO_DURATION = /^(\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))*$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
/** Shortest sensible interval between two snapshots: each one copies the whole etcd database. */
const MIN_EVERY_SECONDS = 60;
/** Days each month can have (February in a leap year). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** What is wrong with `schedule` for K3s's snapshot scheduler, or undefined when it parses and fires. */
export function snapshotScheduleProblem(schedule: string): string | undefined {
  // A time zone prefix (`CRON_TZ=Europe/Berlin 0 3 * * *`) is read first, as the parser does.
  const zone = /^(?:CRON_TZ|TZ)=(\S*)\s+/.exec(schedule.trim());
  if (zone && !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone[1])) {
    return `an IANA time zone after ${zone[0].split('=')[0]}= (not ${JSON.stringify(zone[1])})`;
  }
  const spec = schedule.trim().slice(zone ? zone[0].length : 0);
  if (spec.startsWith('@')) {
    if (DESCRIPTORS.includes(spec)) {
      return undefined;
    }
    if (spec.startsWith('@every ')) {
      const duration = spec.slice('@every '.length);
      const seconds = goDurationSeconds(duration);
      if (seconds === undefined) {
        return `"@every" with a Go duration such as "6h" or "90m" (not ${JSON.stringify(duration)})`;
      }
      return seconds < MIN_EVERY_SECONDS ? `an interval of at least 1m between snapshots (${JSON.stringify(duration)} is shorter)` : undefined;
    }
    return `one of the descriptors ${DESCRIPTORS.join(' ')} or "@every <duration>"`;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) {
    return `five fields (minute hour day-of-month month day-of-week), not ${fields.length}`;
  }
  const sets: Set<number>[] = [];
  for (const [i, field] of fields.entries()) {
    const parsed = parseField(field, FIELDS[i]);
    if (typeof parsed === 'string') {
      return `a valid ${FIELDS[i].name} field (${parsed})`;
    }
    sets.push(parsed);
  }
  // With a restricted day of month and any weekday, robfig/cron fires only on those dates (it ORs the two day
  // fields only when both are restricted): "0 0 31 2 *" never comes.
  const [, , days, months] = sets;
  const anyWeekday = /^[*?](\/1)?$/.test(fields[4]);
  if (anyWeekday && ![...months].some((month) => [...days].some((day) => day <= MONTH_DAYS[month - 1]))) {
    return `a schedule that fires: no month of ${JSON.stringify(fields[3])} has day ${JSON.stringify(fields[2])}`;
  }
  return undefined;
}

/** The values of one field, or what is wrong with it. */
function parseField(field: string, bounds: Bounds): Set<number> | string {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText, ...extra] = part.split('/');
    if (extra.length > 0) {
      return `too many slashes in ${JSON.stringify(part)}`;
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        return `the step ${JSON.stringify(stepText)} of ${JSON.stringify(part)} is no positive whole number`;
      }
      step = Number(stepText);
    }
    let start: number;
    let end: number;
    if (range === '*' || range === '?') {
      [start, end] = [bounds.min, bounds.max];
    } else {
      const [low, high, ...more] = range.split('-');
      if (more.length > 0) {
        return `too many hyphens in ${JSON.stringify(part)}`;
      }
      const first = valueOf(low, bounds);
      const last = high === undefined ? (stepText === undefined ? first : bounds.max) : valueOf(high, bounds);
      if (first === undefined || last === undefined) {
        return `${JSON.stringify(part)} is no number or name`;
      }
      [start, end] = [first, last];
    }
    if (start < bounds.min || end > bounds.max) {
      return `${JSON.stringify(part)} lies outside ${bounds.min}–${bounds.max}`;
    }
    if (start > end) {
      return `${JSON.stringify(part)} starts after it ends`;
    }
    for (let value = start; value <= end; value += step) {
      values.add(value);
    }
  }
  return values;
}

function valueOf(text: string, bounds: Bounds): number | undefined {
  const named = bounds.names?.[text.toLowerCase()];
  if (named !== undefined) {
    return named;
  }
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

function goDurationSeconds(text: string): number | undefined {
  if (!GO_DURATION.test(text)) {
    return undefined;
  }
  let seconds = 0;
  for (const match of [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)]) {
    seconds += Number(match[1]) * UNIT_SECONDS[match[2]];
  }
  return seconds;
}
