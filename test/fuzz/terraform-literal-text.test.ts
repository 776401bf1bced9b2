// escapeTerraformTemplate, the one boundary between the library's text and Terraform's template syntax, as a
// property: any text, with cdktf tokens (references to a variable) anywhere in it, escaped once and synthesized by
// cdktf, is evaluated by the real terraform CLI back to exactly that text with the references' values in place.
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as fc from 'fast-check';
import { Lazy, TerraformOutput, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { escapeTerraformTemplate } from '../../constructs/tf';
import { describeWithTools } from '../support/tools';

/* eslint-disable @typescript-eslint/no-require-imports */
const { runTerraform } = require('../../tools/standin-providers/workdir') as {
  runTerraform: (args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }) => Promise<{ code: number | null; stdout: string; stderr: string }>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const CASES = Number(process.env.FUZZ_LONG === '1' ? 2000 : 300);
const SECRET = 'S3cret-value';

/** Characters that matter to Terraform's and cdktf's parsers, and some that do not. */
const PIECES = ['$', '%', '{', '}', '${', '%{', '$${', '%%{', '}}', '"', '\\', '~', 'x', ' ', '\n', 'var.secret', 'if true', 'endif', 'ü', '🚀', 'TfToken[', ']'];
const textPart = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((pieces) => pieces.join(''));
/** Literal text with references placed anywhere: strings at even positions, a reference between two of them. */
const mixedText = fc.array(textPart, { minLength: 1, maxLength: 4 });

describeWithTools(['terraform'], 'escapeTerraformTemplate through cdktf and the real terraform', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pkh-literal-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`${CASES} texts with references: Terraform evaluates each to the text, references resolved (FUZZ_SEED=${SEED})`, async () => {
    const cases = fc.sample(mixedText, { seed: SEED, numRuns: CASES });
    const stack = new TerraformStack(Testing.app(), 'literal');
    const secret = new TerraformVariable(stack, 'secret', { type: 'string', default: SECRET });
    const expected: Record<string, string> = {};
    cases.forEach((parts, i) => {
      const withTokens = parts.join(secret.stringValue);
      // Directly, and produced lazily (as rendered files are).
      new TerraformOutput(stack, `direct_${i}`, { value: escapeTerraformTemplate(withTokens) });
      new TerraformOutput(stack, `lazy_${i}`, { value: Lazy.stringValue({ produce: () => escapeTerraformTemplate(withTokens) }) });
      expected[`direct_${i}`] = parts.join(SECRET);
      expected[`lazy_${i}`] = parts.join(SECRET);
    });
    writeFileSync(join(dir, 'main.tf.json'), Testing.synth(stack));
    const env = { TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
    const apply = await runTerraform(['apply', '-no-color', '-input=false', '-auto-approve'], { cwd: dir, env, timeoutMs: 300_000 });
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    const output = await runTerraform(['output', '-no-color', '-json'], { cwd: dir, env, timeoutMs: 120_000 });
    const values = Object.fromEntries(Object.entries(JSON.parse(output.stdout) as Record<string, { value: string }>).map(([name, { value }]) => [name, value]));
    const wrong = Object.keys(expected).filter((name) => values[name] !== expected[name]).map((name) => ({ name, expected: expected[name], got: values[name] }));
    expect(wrong).toEqual([]);
  }, 600_000);

  test('the check can fail: text that is not escaped is evaluated by Terraform', async () => {
    const stack = new TerraformStack(Testing.app(), 'unescaped');
    new TerraformVariable(stack, 'secret', { type: 'string', default: SECRET });
    new TerraformOutput(stack, 'leak', { value: 'key comment ${var.secret}' });
    const work = mkdtempSync(join(tmpdir(), 'pkh-literal-'));
    try {
      writeFileSync(join(work, 'main.tf.json'), Testing.synth(stack));
      const env = { TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
      expect((await runTerraform(['apply', '-no-color', '-input=false', '-auto-approve'], { cwd: work, env })).code).toBe(0);
      const output = await runTerraform(['output', '-no-color', '-raw', 'leak'], { cwd: work, env });
      expect(output.stdout).toBe(`key comment ${SECRET}`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
