// The site fuzz: site descriptions generated from the five seeds (sites/*.ts) with plausible, edge, hostile and
// JavaScript-level mutations (test/fuzz/arbitraries.ts). Each one is either refused with a ValidationError whose
// every problem has a path, a value and an expectation, or it synthesizes (Terraform stack, cdk8s chart, site
// document) into Terraform JSON with no interpolation its text brought in; a sample of the accepted ones also goes
// through the real validators and `terraform validate` with the stand-in providers. Seeded and bounded: the default
// run fits CI; `npm run fuzz` runs longer (FUZZ_SEED, FUZZ_RUNS). A failure is shrunk and printed as a test.
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import * as fc from 'fast-check';
import { SiteStack, defineSite, k3sServerManifests } from '../../constructs';
import { Testing } from 'cdktf';
import { SITE_SPECS } from '../../sites';
import { StandinHome, TerraformWorkdir, createReattachedStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { FuzzCase, fuzzCase } from './arbitraries';
import { DELIVERED_FILE_TOOLS, checkDeliveredHost, makeTestCa, representativeHosts } from './delivered-checks';
import { mutatedSite } from './mutations';
import { regressionTest } from './regression';
import { SiteCheckFailure, checkSite, describeError } from './site-oracle';

/* eslint-disable @typescript-eslint/no-require-imports */
const { prepareStackCopy } = require('../../tools/standin-providers/workdir') as { prepareStackCopy: (source: object, dir: string) => string };
/* eslint-enable @typescript-eslint/no-require-imports */

const LONG = process.env.FUZZ_LONG === '1';
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
/** Site descriptions per run: the CI default takes about a minute and a half on the project's 2-core machine. */
const RUNS = Number(process.env.FUZZ_RUNS ?? (LONG ? 2000 : 400));
/** Every n-th accepted site goes through the real validators, every m-th through `terraform validate`. */
const VALIDATORS_EVERY = LONG ? 2 : 4;
const TERRAFORM_EVERY = LONG ? 5 : 10;

interface Counts {
  specs: number;
  rejected: number;
  accepted: number;
  validatorSites: number;
  toolRuns: number;
  terraformValidated: number;
}

describeWithTools(['terraform', ...DELIVERED_FILE_TOOLS], 'site fuzz', () => {
  let home: StandinHome;
  let workdir: TerraformWorkdir;
  let ca: { path: string; dispose: () => void };

  beforeAll(async () => {
    ca = makeTestCa();
    home = await createReattachedStandinHome();
    // Initialized once with a stack that uses all three providers; each sample then replaces the configuration.
    const homelab = defineSite(SITE_SPECS.find((spec) => spec.name === 'homelab')!);
    const stack = new SiteStack(Testing.app(), homelab.name, { site: homelab, serverManifests: k3sServerManifests(homelab) });
    workdir = await TerraformWorkdir.create(JSON.parse(Testing.synth(stack)), { home });
  }, 180_000);

  afterAll(() => {
    workdir?.dispose();
    home?.dispose();
    ca?.dispose();
  });

  test(`${RUNS} site descriptions from the seeds (FUZZ_SEED=${SEED}): each refused with a clear error or synthesized into valid files`, async () => {
    const counts: Counts = { specs: 0, rejected: 0, accepted: 0, validatorSites: 0, toolRuns: 0, terraformValidated: 0 };
    let failing = false;
    const started = Date.now();

    const check = async (fuzz: FuzzCase): Promise<void> => {
      const outcome = checkSite(mutatedSite(fuzz.seed, fuzz.mutations));
      if (!failing) {
        counts.specs += 1;
        counts[outcome.kind] += 1;
      }
      if (outcome.kind === 'rejected') {
        return;
      }
      // While shrinking, every check runs, so a failure found by a sampled check stays reproducible.
      if (failing || counts.accepted % VALIDATORS_EVERY === 1) {
        const runs = representativeHosts(outcome.site, outcome.hosts).reduce((sum, host) => sum + checkDeliveredHost(host, ca.path), 0);
        if (!failing) {
          counts.validatorSites += 1;
          counts.toolRuns += runs;
        }
      }
      if (failing || counts.accepted % TERRAFORM_EVERY === 1) {
        prepareStackCopy(outcome.json, workdir.dir);
        const run = await workdir.run(['validate'], { allowFailure: true });
        if (run.code !== 0) {
          throw new SiteCheckFailure(`terraform validate failed: ${(run.stderr || run.stdout).trim().split('\n').slice(0, 8).join(' / ').slice(0, 800)}`);
        }
        if (!failing) {
          counts.terraformValidated += 1;
        }
      }
    };
    const property = fc.asyncProperty(fuzzCase, async (fuzz: FuzzCase) => {
      try {
        await check(fuzz);
      } catch (error) {
        // From here on fast-check shrinks: counts stay as they were, every check runs.
        failing = true;
        throw error;
      }
    });

    // Shrinking re-runs the checks; bounded so that a failing run still ends.
    const result = await fc.check(property, { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: LONG ? 3_600_000 : 900_000 });
    const seconds = Math.round((Date.now() - started) / 1000);
    const summary = { mode: LONG ? 'long' : 'ci', seed: SEED, runs: RUNS, seconds, ...counts };
    mkdirSync('test-results', { recursive: true });
    writeFileSync(join('test-results', `fuzz-${summary.mode}.json`), `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`site fuzz (${summary.mode}, FUZZ_SEED=${SEED}): ${counts.specs} specs, ${counts.rejected} rejected, ${counts.accepted} accepted; `
      + `${counts.validatorSites} accepted sites through ${counts.toolRuns} validator runs, ${counts.terraformValidated} through terraform validate; ${seconds} s`);

    if (result.failed) {
      const fuzz = result.counterexample![0];
      const message = result.errorInstance instanceof Error ? result.errorInstance.message : describeError(result.errorInstance);
      const origin = `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}, fast-check path ${result.counterexamplePath}`;
      throw new Error(`site fuzz found a failure after ${result.numRuns} runs (shrunk ${result.numShrinks} times): ${message}\n\n`
        + `Regression test for test/site/fuzz-regressions.test.ts:\n\n${regressionTest(fuzz.seed, fuzz.mutations, message, origin)}\n`);
    }
    expect(counts.specs).toBe(RUNS);
    // The mutations keep a real share of the sites valid, so synthesis is what gets fuzzed, not only validation.
    expect(counts.accepted).toBeGreaterThan(RUNS / 10);
    expect(counts.rejected).toBeGreaterThan(RUNS / 10);
    expect(counts.validatorSites).toBeGreaterThan(0);
    expect(counts.terraformValidated).toBeGreaterThan(0);
  }, LONG ? 7_200_000 : 1_200_000);
});
