import { markdownTable, medianAndMax, medianMax, medianMaxOfRuns } from './bench-stats';

describe('bench statistics', () => {
  test('median and max of unsorted values; the upper middle value of an even count', () => {
    expect(medianAndMax([30, 10, 50, 20, 40])).toEqual({ median: 30, max: 50 });
    expect(medianAndMax([4, 1, 3, 2])).toEqual({ median: 3, max: 4 });
    expect(medianAndMax([])).toBeUndefined();
  });

  test('"median / max" rounded by default, or as a bench formats it; "-" without values', () => {
    expect(medianMax([1.4, 2.6, 9.5])).toBe('3 / 10');
    expect(medianMax([1.25, 3], (value) => value.toFixed(1))).toBe('3.0 / 3.0');
    expect(medianMax([])).toBe('-');
  });

  test('runs that never got there are counted beside the others, or make the cell "never"', () => {
    expect(medianMaxOfRuns([100.4, undefined, 300, 200])).toBe('200 / 300 (1× never)');
    expect(medianMaxOfRuns([5, 7, 6])).toBe('6 / 7');
    expect(medianMaxOfRuns([undefined, undefined])).toBe('never');
    expect(medianMaxOfRuns([])).toBe('-');
  });

  test('a Markdown table with a separator per column', () => {
    expect(markdownTable(['metric', 'a', 'b'], [['x', '1 / 2', '-']])).toBe('| metric | a | b |\n|---|---|---|\n| x | 1 / 2 | - |');
  });
});
