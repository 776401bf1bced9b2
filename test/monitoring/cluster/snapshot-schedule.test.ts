import { longestScheduleGapSeconds } from '../../../constructs/monitoring/snapshot-schedule';

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('longestScheduleGapSeconds', () => {
  test.each([
    ['0 */6 * * *', 6 * HOUR],
    ['CRON_TZ=Europe/Berlin 0 */4 * * *', 4 * HOUR],
    ['@every 90m', 90 * 60],
    ['@every 1h30m', 90 * 60],
    ['@daily', DAY],
    ['@hourly', HOUR],
    ['15,45 * * * *', 30 * 60],
    ['0 22 * * mon-fri', 3 * DAY],
    ['30 2 * * 1-5', 3 * DAY],
    ['0 3 1 * *', 31 * DAY],
    ['0 0 1,15 * mon', 7 * DAY],
    ['0 0 * * sun', 7 * DAY],
    ['5/20 0 * * *', DAY - 40 * 60],
    // Once in the two years simulated: the gap is taken as the whole window.
    ['0 0 29 2 *', 731 * DAY],
  ])('%s: %d s', (schedule, gap) => {
    const got = longestScheduleGapSeconds(schedule);
    expect(got).toBe(gap);
  });
});
