import { SitePlan } from '../site/plan';
import { omittedAlerts, siteAlertRuleGroups } from './alert-rules';

/** A table cell: pipes escaped (also inside code spans, as GitHub's tables need), no line breaks. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
/** The alert's summary with its templates named: `{{ $value }}` → `N`, `{{ $labels.x }}` → `<x>`. */
const readable = (summary: string) => summary.replace(/\{\{ \$value \}\}/g, 'N').replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, '<$1>');

/**
 * The site page's "Alerts" section: every alert generated for the site with its severity, threshold and the command
 * that checks the same thing by hand; then the alerts the site does not get, with the reason. Pure.
 */
export function renderAlertSection(plan: SitePlan): string[] {
  const lines = ['## Alerts', ''];
  if (!plan.monitoring.enabled) {
    return [...lines, 'Monitoring is off for this site (`monitoring.enabled: false`): no rules are installed.', ''];
  }
  lines.push(
    'Generated from the plan into the `PrometheusRule` of the monitoring stack (namespace `monitoring`). Each alert fires once',
    'its condition has held for the time in the threshold; the description of each tells the operator what to do.',
    '',
    '| alert | severity | says | threshold | check by hand |',
    '|---|---|---|---|---|',
  );
  for (const group of siteAlertRuleGroups(plan)) {
    for (const rule of group.rules) {
      lines.push(`| ${rule.alert} | ${rule.severity} | ${cell(readable(rule.summary))} | ${cell(rule.threshold)} | \`${cell(rule.manualCheck.command)}\` on ${cell(rule.manualCheck.where)} |`);
    }
  }
  const omitted = omittedAlerts(plan);
  if (omitted.length > 0) {
    lines.push('', 'Not generated for this site:', '', ...omitted.map((alert) => `- ${alert.alert}: ${alert.reason}.`));
  }
  lines.push('');
  return lines;
}
