import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';

/** The result of one promtool run. */
export interface PromtoolResult {
  readonly status: number | null;
  /** stdout and stderr together, for the failure message. */
  readonly output: string;
}

/** Runs `promtool <args>` in a fresh folder holding `files` (relative path → text); the folder is removed afterwards. */
export function promtool(args: readonly string[], files: Readonly<Record<string, string>>): PromtoolResult {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    // promtool finishes in well under a second; the timeout only bounds a hung run.
    const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
