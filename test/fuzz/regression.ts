import { Mutation, mutatedSite } from './mutations';
import { checkDeliveredHost, makeTestCa } from './delivered-checks';
import { SiteOutcome, checkSite } from './site-oracle';

/**
 * What a printed fuzz failure replays: the seed with its mutations through {@link checkSite}, and, for a site that
 * validated, every delivered host through the real validators. Throws the broken property.
 */
export function expectSiteHolds(seed: string, mutations: readonly Mutation[]): SiteOutcome {
  const outcome = checkSite(mutatedSite(seed, mutations));
  if (outcome.kind === 'accepted') {
    const ca = makeTestCa();
    try {
      outcome.hosts.forEach((host) => checkDeliveredHost(host, ca.path));
    } finally {
      ca.dispose();
    }
  }
  return outcome;
}

/** A failure as a test to paste into test/site/fuzz-regressions.test.ts. */
export function regressionTest(seed: string, mutations: readonly Mutation[], failure: string, origin: string): string {
  const title = failure.split('\n')[0].slice(0, 100).replace(/\\/g, '\\\\').replace(/'/g, '\\\'');
  const body = `[\n${mutations.map((mutation) => `    ${JSON.stringify(mutation)},`).join('\n')}\n  ]`;
  return [
    `// ${origin}: ${failure.split('\n')[0]}`,
    `test('fuzz: ${title}', () => {`,
    `  expect(() => expectSiteHolds('${seed}', ${body})).not.toThrow();`,
    '});',
  ].join('\n');
}
