import { existsSync, readFileSync, statSync } from 'fs';
import { join, relative, resolve } from 'path';
import { ValidationError } from '../core/problems';

/**
 * Where a previous synthesis of a stack is, in cdktf's output layout (`<outdir>/stacks/<stack>/cdk.tf.json`), and
 * reading it. Pure file access: loads no construct library, so the `plan` command uses it too.
 */

/** The synthesized Terraform JSON of `stackId` in the cdktf output folder `outdir`. */
export function stackSynthesisFile(outdir: string, stackId: string): string {
  return join(outdir, 'stacks', stackId, 'cdk.tf.json');
}

/**
 * The folder to compare with: `named` (by an option or environment variable, `source` says which) when given,
 * else `fallback` (the previous synthesis in the app's own output folder).
 *
 * @throws ValidationError when `named` is not a folder: a mistyped baseline must not pass as "no previous synthesis"
 */
export function resolveBaselineDir(named: string | undefined, fallback: string, source: string): string {
  if (named === undefined || named === '') {
    return resolve(fallback);
  }
  const dir = resolve(named);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    // A ValidationError: runApp prints it as the one-line problem it is.
    throw new ValidationError('the baseline', [{
      path: source, value: named, expected: 'the folder of a previous synthesis (a cdktf output folder with stacks/<stack>/cdk.tf.json), e.g. cdktf.out',
    }]);
  }
  return dir;
}

/** The parsed JSON in `file`, or undefined when there is none (a stack synthesized for the first time). */
export function readSynthesis(file: string): unknown | undefined {
  if (!existsSync(file)) {
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: ${error instanceof Error ? error.message : String(error)} — expected the Terraform JSON of a previous synthesis`);
  }
}

/** `file` relative to the working directory when it lies below it (shorter in messages), else absolute. */
export function displayPath(file: string): string {
  const shown = relative(process.cwd(), file);
  return shown === '' || shown.startsWith('..') ? file : shown;
}
