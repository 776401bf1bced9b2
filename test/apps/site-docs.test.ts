import { readFileSync, readdirSync } from 'fs';
import { join, resolve } from 'path';
import { renderSiteDocument } from '../../constructs';
import { loadSites } from '../../sites';

const docsDir = resolve(__dirname, '../../docs/sites');

describe.each(loadSites().map((site) => [site.name, site] as const))('docs/sites/%s.md', (name, site) => {
  const text = renderSiteDocument(site);

  test('is committed and up to date (npm run docs regenerates it)', () => {
    expect(readFileSync(join(docsDir, `${name}.md`), 'utf8')).toBe(text);
  });

  test('has the topology diagram, every host with its address, the endpoint and every warning', () => {
    expect(text).toContain('```mermaid\nflowchart TB');
    for (const host of site.hosts) {
      expect(text).toContain(`| ${host.name} | ${host.ip} |`);
    }
    expect(text).toContain(site.apiEndpoint.url);
    site.warnings.forEach((warning) => expect(text).toContain(warning.message));
    expect(text).toContain('## Validation procedures');
  });
});

test('docs/sites holds exactly one page per site', () => {
  expect(readdirSync(docsDir).sort()).toEqual(loadSites().map((site) => `${site.name}.md`).sort());
});
