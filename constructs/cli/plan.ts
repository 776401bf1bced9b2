import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import {
  ACCEPT_UNSAFE_ENV, BASELINE_ENV, acceptedUnsafeChangeIds, splitAcceptedProblems, unsafeChangeId,
} from '../core/unsafe-changes';
import { ValidationError, formatProblem } from '../core/problems';
import { compareSyntheses, formatChangeReport } from '../tf/lifecycle';
import { displayPath, readSynthesis, resolveBaselineDir, stackSynthesisFile } from '../tf/synthesis-baseline';

/** What `proxmox-k3s-ha plan` runs and compares with. */
export interface PlanOptions {
  /** The cdktf project: its `cdktf.json` gives the app command and the output folder. */
  readonly projectDir: string;
  /** The app command; default: `app` of `cdktf.json`. */
  readonly app?: string;
  /** The previous synthesis; default: `PROXMOX_K3S_HA_BASELINE`, else the project's output folder (`cdktf.out`). */
  readonly baseline?: string;
  /** The environment the app runs with (its copy of `PROXMOX_K3S_HA_BASELINE` is removed). */
  readonly env: NodeJS.ProcessEnv;
  /** How long the app may take. */
  readonly timeoutMs: number;
  /** Report lines (stdout). */
  readonly out: (text: string) => void;
  /** Failures and the unsafe-change summary (stderr). */
  readonly err: (text: string) => void;
}

/** The cdktf project's `app` and `output`, from its `cdktf.json` (absent file: no app, the default output). */
function readCdktfConfig(projectDir: string): { app?: string; output: string } {
  const file = join(projectDir, 'cdktf.json');
  if (!existsSync(file)) {
    return { output: 'cdktf.out' };
  }
  const config = JSON.parse(readFileSync(file, 'utf8')) as { app?: unknown; output?: unknown };
  return {
    ...(typeof config.app === 'string' ? { app: config.app } : {}),
    output: typeof config.output === 'string' ? config.output : 'cdktf.out',
  };
}

/** The stacks of a synthesis in `outdir`, from cdktf's `manifest.json`. */
function synthesizedStacks(outdir: string): string[] | undefined {
  const manifest = join(outdir, 'manifest.json');
  if (!existsSync(manifest)) {
    return undefined;
  }
  return Object.keys((JSON.parse(readFileSync(manifest, 'utf8')) as { stacks?: Record<string, unknown> }).stacks ?? {}).sort();
}

/**
 * Runs the project's cdktf app into a temporary folder, compares each stack with its previous synthesis and prints
 * the change report per stack; writes nothing (the app gets the temporary folder as `CDKTF_OUTDIR` and
 * `CDK8S_OUTDIR`). Returns the exit status: 0 when every change is safe (or accepted by `PROXMOX_K3S_HA_ACCEPT_UNSAFE`),
 * 1 on unsafe changes or when the app fails, 2 on a usage error.
 */
export function plan(options: PlanOptions): number {
  const config = readCdktfConfig(options.projectDir);
  const app = options.app ?? config.app;
  if (!app) {
    options.err(`plan: --app: (missing) — expected the app command, or a cdktf.json with "app" in ${options.projectDir}`);
    return 2;
  }
  let baselineDir: string;
  try {
    baselineDir = options.baseline !== undefined
      ? resolveBaselineDir(options.baseline, '', '--baseline')
      : resolveBaselineDir(options.env[BASELINE_ENV], resolve(options.projectDir, config.output), BASELINE_ENV);
  } catch (error) {
    if (!(error instanceof ValidationError)) {
      throw error;
    }
    options.err(`plan: ${error.problems.map(formatProblem).join('; ')}`);
    return 2;
  }

  const staging = mkdtempSync(join(tmpdir(), 'proxmox-k3s-ha-plan-'));
  try {
    const outdir = join(staging, 'cdktf.out');
    const env: NodeJS.ProcessEnv = { ...options.env, CDKTF_OUTDIR: outdir, CDK8S_OUTDIR: join(staging, 'k8s') };
    // The app's own guard would compare with the baseline and fail before this report could show the changes.
    delete env[BASELINE_ENV];
    const run = spawnSync(app, { shell: true, cwd: options.projectDir, env, stdio: ['ignore', 2, 2], timeout: options.timeoutMs, killSignal: 'SIGKILL' });
    if (run.error || run.signal || run.status !== 0) {
      const why = run.signal ? `was stopped (${run.signal}${run.signal === 'SIGKILL' ? `, after ${options.timeoutMs / 1000} s` : ''})` : run.error ? `did not start (${run.error.message})` : `failed (exit ${run.status})`;
      options.err(`plan: the app ${JSON.stringify(app)} ${why}: nothing was compared`);
      return 1;
    }
    const stacks = synthesizedStacks(outdir);
    if (!stacks) {
      options.err(`plan: the app ${JSON.stringify(app)} wrote no manifest.json into CDKTF_OUTDIR — expected an app that calls app.synth() on new App() without an explicit outdir`);
      return 1;
    }
    const problems: string[] = [];
    for (const stack of stacks) {
      const report = compareSyntheses(stack, readSynthesis(stackSynthesisFile(baselineDir, stack)), readSynthesis(stackSynthesisFile(outdir, stack)));
      options.out(formatChangeReport(stack, report));
      problems.push(...report.problems);
    }
    const previousStacks = existsSync(join(baselineDir, 'stacks')) ? readdirSync(join(baselineDir, 'stacks')) : [];
    for (const gone of previousStacks.filter((stack) => !stacks.includes(stack)).sort()) {
      options.out(`stack ${gone}: in the previous synthesis, no longer in the app (its machines stay until the stack is destroyed)`);
    }
    options.out(`compared with ${displayPath(baselineDir)}: nothing was written`);
    const { accepted, blocking } = splitAcceptedProblems(problems, acceptedUnsafeChangeIds(options.env[ACCEPT_UNSAFE_ENV]));
    accepted.forEach((problem) => options.err(`accepted by ${ACCEPT_UNSAFE_ENV}: [${unsafeChangeId(problem)}] ${problem}`));
    if (blocking.length > 0) {
      // The report above says why; here each change's id, for an explicit acceptance.
      options.err([
        `${blocking.length === 1 ? '1 unsafe change' : `${blocking.length} unsafe changes`}; change the site, or accept them explicitly: ${ACCEPT_UNSAFE_ENV}=${blocking.map(unsafeChangeId).join(',')}`,
        ...blocking.map((problem) => `  [${unsafeChangeId(problem)}] ${problem.split(' — ')[0]}`),
      ].join('\n'));
      return 1;
    }
    return 0;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
