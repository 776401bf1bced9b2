import { spawnSync } from 'child_process';
import { calendarIntervalProblem, calendarIntervalSeconds } from '../../../constructs/monitoring/calendar-interval';
import { DEFAULT_ETCD_BACKUP_CALENDAR } from '../../../constructs/site/backup';
import { isBackupCalendar } from '../../../constructs/site/validate/backup';
import { SiteSpec, defineSite } from '../../../constructs';
import kubeadmStacked from '../../../sites/kubeadm-stacked';
import { describeWithTools } from '../../support/tools';
import { validationErrorOf } from '../../support/validation-error';

const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

const CASES: readonly (readonly [string, number])[] = [
  [DEFAULT_ETCD_BACKUP_CALENDAR, 6 * HOUR],
  ['*-*-* 00/4:00:00', 4 * HOUR],
  ['*-*-* 03/7:00:00', 10 * HOUR],
  ['*-*-* 1..10/3:00', 15 * HOUR],
  ['*-*-* 1,5..10/2:00', 16 * HOUR],
  ['*-*-* 03:15', DAY],
  ['*-*-* *:0/15', 15 * MINUTE],
  ['Mon..Fri *-*-* 02:30:00', 3 * DAY],
  ['Mon..Wed,Fri 02:30', 3 * DAY],
  ['Sat,Sun,Mon 01:00', 5 * DAY],
  ['Sun *-*-01 04:00:00', 0],
  ['minutely', MINUTE],
  ['hourly', HOUR],
  ['daily', DAY],
  ['weekly', 7 * DAY],
  ['monthly', 31 * DAY],
  ['quarterly', 92 * DAY],
  ['semiannually', 184 * DAY],
  ['yearly', 366 * DAY],
];

describe('calendarIntervalSeconds: the longest gap between two runs of an OnCalendar expression', () => {
  test.each(CASES.filter(([, gap]) => gap > 0))('%s: %d s', (calendar, gap) => {
    expect(isBackupCalendar(calendar)).toBe(true);
    expect(calendarIntervalSeconds(calendar)).toBe(gap);
  });

  test('a Sunday that is the 1st: months apart, at most the 14 months between two such Sundays', () => {
    const gap = calendarIntervalSeconds('Sun *-*-01 04:00:00');
    expect(gap).toBeGreaterThan(5 * 30 * DAY);
    expect(gap).toBeLessThanOrEqual(14 * 31 * DAY);
  });

  test.each([
    ['2027-*-* 00:00', /year "2027" is fixed/],
    ['2027..2028-*-* 00:00', /year "2027\.\.2028" is fixed/],
    ['*-02-30 00:00', /runs on 0 days in eight years: it does not recur/],
    ['0 */6 * * *', /is not/],
    // The validation's pattern lets it through, systemd-analyze calendar refuses it.
    ['Sat..Mon 01:00', /runs backwards/],
  ])('%s: no interval, and the reason', (calendar, reason) => {
    expect(() => calendarIntervalSeconds(calendar)).toThrow(reason);
    expect(calendarIntervalProblem(calendar)).toMatch(reason);
  });
});

describe('the site validation refuses a backup calendar without an interval, saying why', () => {
  const withCalendar = (calendar: string): SiteSpec => ({ ...kubeadmStacked, backup: { target: { endpoint: 'https://s3.backup.test', bucket: 'site-backups' }, etcd: { calendar } } } as SiteSpec);

  test.each([
    ['2027-*-* 02:00', /year "2027" is fixed/],
    ['*-02-30 02:00', /does not recur/],
    ['Sat..Mon 01:00', /runs backwards/],
  ])('%s', (calendar, reason) => {
    const problems = validationErrorOf(withCalendar(calendar)).problems;
    expect(problems.map((p) => [p.path, p.value])).toEqual([['backup.etcd.calendar', calendar]]);
    expect(problems[0].expected).toMatch(/a schedule that recurs, so the backup alert can bound its age/);
    expect(problems[0].expected).toMatch(reason);
  });

  test('a recurring calendar passes', () => {
    expect(defineSite(withCalendar('Mon..Fri *-*-* 02:30:00')).backup!.etcd.calendar).toBe('Mon..Fri *-*-* 02:30:00');
  });
});

/** The longest gap among the next `iterations` runs as systemd itself computes them. */
function systemdLongestGap(calendar: string, iterations: number): number {
  const run = spawnSync('systemd-analyze', ['calendar', `--iterations=${iterations}`, calendar], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TZ: 'UTC' } });
  expect(run.status).toBe(0);
  const times = [...run.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g)].map((m) => Date.parse(`${m[1].replace(' ', 'T')}Z`) / 1000);
  expect(times).toHaveLength(iterations);
  return times.slice(1).reduce((longest, time, i) => Math.max(longest, time - times[i]), 0);
}

describeWithTools(['systemd-analyze'], 'the same gaps as systemd-analyze calendar computes', () => {
  // Enough iterations to cover at least one whole period (a week, a year) of each schedule.
  test.each([
    [DEFAULT_ETCD_BACKUP_CALENDAR, 40], ['*-*-* 03/7:00:00', 40], ['*-*-* 1,5..10/2:00', 40], ['Mon..Fri *-*-* 02:30:00', 30],
    ['Sat,Sun,Mon 01:00', 30], ['weekly', 10], ['monthly', 30], ['quarterly', 12],
  ])('%s over %d runs', (calendar, iterations) => {
    expect(calendarIntervalSeconds(calendar)).toBe(systemdLongestGap(calendar, iterations));
  });
});
