import { Measurement } from './scenarios';

const fmt = (value: number | undefined) => (value === undefined ? 'never' : String(Math.round(value)));

/** One row per scenario, the configurations side by side. */
export function formatTable(results: Record<string, readonly Measurement[]>): string {
  const labels = Object.keys(results);
  const scenarios = [...new Set(labels.flatMap((label) => results[label].map((m) => m.scenario)))];
  const header = ['scenario', ...labels.map((l) => `${l}: failed / outage ms / vip move ms / removal ms / recovery ms`)];
  const rows = scenarios.map((scenario) => [scenario, ...labels.map((label) => {
    const m = results[label].find((r) => r.scenario === scenario);
    return m ? `${m.failed} / ${fmt(m.outageMs)} / ${fmt(m.vipMoveMs)} / ${fmt(m.removalMs)} / ${fmt(m.recoveryMs)}` : '-';
  })]);
  return [header, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}
