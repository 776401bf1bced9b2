/**
 * The longest gap between two runs of a systemd `OnCalendar` expression, so the backup alert can say "older than
 * twice the schedule". Reads the shapes the site validation accepts (constructs/site/validate/backup.ts,
 * isBackupCalendar): a systemd.time(7) shorthand, or `[weekdays] [*-month-day] hour:minute[:second]` where each
 * field is `*` or comma-separated values, `a..b` ranges and `a/step` or `a..b/step` repetitions (the step applies to
 * its own component, as `systemd-analyze calendar` normalizes `1,5..10/2` to `01,05..09/2`). A fixed year is not
 * read: such a schedule stops, so it has no interval (the validation refuses it, naming this reason).
 * Timers run in the host's time zone; a daylight-saving shift moves one gap by an hour at most and is ignored.
 */

/** systemd.time(7): the shorthands in their normalized form. */
const SHORTHANDS: Readonly<Record<string, string>> = {
  minutely: '*-*-* *:*:00',
  hourly: '*-*-* *:00:00',
  daily: '*-*-* 00:00:00',
  weekly: 'Mon *-*-* 00:00:00',
  monthly: '*-*-01 00:00:00',
  yearly: '*-01-01 00:00:00',
  annually: '*-01-01 00:00:00',
  quarterly: '*-01,04,07,10-01 00:00:00',
  semiannually: '*-01,07-01 00:00:00',
};
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** Eight years from 2027: two leap days, so a yearly or 29 February schedule shows its real longest gap. */
const WINDOW_START = Date.UTC(2027, 0, 1);
const WINDOW_DAYS = 8 * 365 + 2;

/** Why `calendar` has no interval the alert can use, or undefined when it has one. */
export function calendarIntervalProblem(calendar: string): string | undefined {
  try {
    calendarIntervalSeconds(calendar);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The values of one numeric field (`*`, `1,3`, `2..5`, `00/6`, `1..10/3`) within `[min, max]`. */
function fieldValues(field: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  if (field === '*') {
    for (let value = min; value <= max; value++) {
      values.add(value);
    }
    return values;
  }
  for (const component of field.split(',')) {
    const match = /^(\d+)(?:\.\.(\d+))?(?:\/(\d+))?$/.exec(component);
    if (!match) {
      throw new Error(`"${component}" is not a number, a range a..b or a repetition a/step`);
    }
    const low = Number(match[1]);
    const step = match[3] === undefined ? 1 : Number(match[3]);
    if (step < 1) {
      throw new Error(`"${component}" repeats every 0: a step must be 1 or more`);
    }
    const high = match[2] !== undefined ? Number(match[2]) : match[3] !== undefined ? max : low;
    for (let value = low; value <= Math.min(high, max); value += step) {
      values.add(value);
    }
  }
  return values;
}

/** `Mon..Fri`, `Mon,Wed`, `Mon..Wed,Fri` → day numbers (0 = Sunday). */
function weekdayValues(field: string): Set<number> {
  const values = new Set<number>();
  for (const component of field.split(',')) {
    const [from, to = from] = component.split('..').map((name) => WEEKDAYS.indexOf(name));
    if (from < 0 || to < 0) {
      throw new Error(`"${component}" is not a weekday or a range of weekdays (Mon..Fri)`);
    }
    // systemd-analyze refuses a range that wraps past Saturday (Sat..Mon: "Invalid argument").
    if (to < from) {
      throw new Error(`"${component}" runs backwards: systemd refuses a weekday range that wraps (write Sat,Sun,Mon)`);
    }
    for (let day = from; day <= to; day++) {
      values.add(day);
    }
  }
  return values;
}

/**
 * The longest time between two consecutive runs of `calendar`, in seconds. Throws, with the reason, for an
 * expression it cannot read or one that does not recur (a fixed year, a date that never comes).
 */
export function calendarIntervalSeconds(calendar: string): number {
  const normalized = SHORTHANDS[calendar.trim()] ?? calendar.trim();
  const words = normalized.split(/\s+/);
  const weekdays = /^[A-Z][a-z]{2}/.test(words[0]) ? weekdayValues(words.shift()!) : weekdayValues('Sun..Sat');
  const [year, month, day] = words.length === 2 ? words.shift()!.split('-') : ['*', '*', '*'];
  if (words.length !== 1 || month === undefined || day === undefined) {
    throw new Error(`"${calendar}" is not [weekdays] [year-month-day] hour:minute[:second]`);
  }
  if (year !== '*') {
    throw new Error(`the year "${year}" is fixed: the schedule stops, so it has no interval (use * for the year)`);
  }
  const months = fieldValues(month, 1, 12);
  const days = fieldValues(day, 1, 31);
  const [hour, minute, second = '00'] = words[0].split(':');
  if (minute === undefined) {
    throw new Error(`"${words[0]}" is not hour:minute[:second]`);
  }
  const seconds = fieldValues(second, 0, 59);
  const times: number[] = [];
  for (const h of [...fieldValues(hour, 0, 23)].sort((a, b) => a - b)) {
    for (const m of [...fieldValues(minute, 0, 59)].sort((a, b) => a - b)) {
      for (const s of [...seconds].sort((a, b) => a - b)) {
        times.push(h * 3600 + m * 60 + s);
      }
    }
  }
  // Every run day has the same times of day: the longest gap is within a day or from one run day's last run to the next's first.
  const withinDay = times.slice(1).reduce((longest, time, i) => Math.max(longest, time - times[i]), 0);
  let longest = times.length > 1 ? withinDay : 0;
  let previousDay: number | undefined;
  let runDays = 0;
  for (let index = 0; index < WINDOW_DAYS; index++) {
    const date = new Date(WINDOW_START + index * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1) || !days.has(date.getUTCDate()) || !weekdays.has(date.getUTCDay())) {
      continue;
    }
    runDays++;
    if (previousDay !== undefined && times.length > 0) {
      longest = Math.max(longest, (index - previousDay) * 86_400 + times[0] - times[times.length - 1]);
    }
    previousDay = index;
  }
  if (times.length === 0 || runDays < 2) {
    throw new Error(`"${calendar}" runs on ${times.length === 0 ? 0 : runDays} day${runDays === 1 ? '' : 's'} in eight years: it does not recur, so it has no interval`);
  }
  return longest;
}
