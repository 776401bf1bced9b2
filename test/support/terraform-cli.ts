import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/* eslint-disable @typescript-eslint/no-require-imports */
const { createTerraformHome } = require('../../tools/standin-providers/mirror') as {
  createTerraformHome: (dir: string, options?: { real?: boolean }) => Record<string, string>;
};
const { prepareStackCopy, fakeVariables, runTerraform } = require('../../tools/standin-providers/workdir') as {
  prepareStackCopy: (source: string | object, dir: string) => string;
  fakeVariables: (...stacks: object[]) => Record<string, string>;
  runTerraform: (args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }) => Promise<TerraformRun>;
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Terraform JSON (a stack's cdk.tf.json or a hand-written configuration). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TerraformJson = Record<string, any>;

/** One finished terraform command. `code` is null when it was killed at its timeout. */
export interface TerraformRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** A command that exited non-zero: the message has the command, the directory and Terraform's error text. */
export class TerraformCommandError extends Error {
  constructor(readonly args: readonly string[], readonly dir: string, readonly run: TerraformRun) {
    super(`terraform ${args.join(' ')} in ${dir} exited ${run.code ?? 'on its timeout'} after ${run.ms} ms:\n${(run.stderr || run.stdout).trim().slice(-4000)}`);
  }
}

/** A Terraform home with the stand-in providers (tools/standin-providers/): make one per test file, dispose it after. */
export interface StandinHome {
  readonly dir: string;
  /** TF_CLI_CONFIG_FILE, CHECKPOINT_DISABLE, TF_IN_AUTOMATION. */
  readonly env: Readonly<Record<string, string>>;
  dispose(): void;
}

export function createStandinHome(): StandinHome {
  const dir = mkdtempSync(join(tmpdir(), 'tf-standin-home-'));
  const env = createTerraformHome(dir);
  return { dir, env, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const STANDIN_MAIN = join(__dirname, '../../tools/standin-providers/main.js');

/** Starts one stand-in in reattach mode and resolves with its TF_REATTACH_PROVIDERS entry. */
function startReattached(provider: string, timeoutMs: number): Promise<{ child: ChildProcess; entry: Record<string, unknown> }> {
  const child = spawn(process.execPath, [STANDIN_MAIN, provider, '--reattach'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`stand-in ${provider} did not print its reattach address within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.once('data', (line: Buffer) => {
      clearTimeout(timer);
      resolve({ child, entry: JSON.parse(line.toString()) });
    });
    child.once('exit', (code) => reject(new Error(`stand-in ${provider} exited with ${code} before it served`)));
  });
}

/**
 * A home whose stand-ins run once for the whole test file and are reattached by every terraform command
 * (TF_REATTACH_PROVIDERS): Terraform starts a provider process nine times in one plan otherwise. Protocol, schemas
 * and models are the same as when Terraform launches them.
 */
export async function createReattachedStandinHome(): Promise<StandinHome> {
  const home = createStandinHome();
  const started = await Promise.all(['proxmox', 'random', 'tls'].map((provider) => startReattached(provider, 30_000)));
  const reattach = JSON.stringify(Object.assign({}, ...started.map(({ entry }) => entry)));
  return {
    dir: home.dir,
    env: { ...home.env, TF_REATTACH_PROVIDERS: reattach },
    dispose: () => {
      started.forEach(({ child }) => child.kill());
      home.dispose();
    },
  };
}

export interface WorkdirOptions {
  /** Where the providers come from. */
  readonly home: StandinHome;
  /** Extra environment (e.g. `TF_VAR_x`); every variable without a default already gets a clearly fake value. */
  readonly env?: Readonly<Record<string, string>>;
  /** Per-command bound. @default 120000 */
  readonly timeoutMs?: number;
}

/** How a plan treats one resource: `terraform show -json` of a saved plan, `resource_changes[]`. */
export interface ResourceChange {
  readonly address: string;
  readonly type: string;
  readonly change: { readonly actions: readonly string[]; readonly replace_paths?: readonly (readonly (string | number)[])[]; readonly before: unknown; readonly after: unknown };
}

/**
 * A scratch directory holding one configuration, run with the stand-in providers: `init` once, then `validate`,
 * `apply`, `planJson`, `stateJson`, each bounded in time; `extraArgs` take `-var`, `-replace=…`, `-target=…`.
 * `setConfig` swaps the configuration for "apply a baseline, then plan a change". Always `dispose()` it.
 */
export class TerraformWorkdir {
  static async create(config: TerraformJson | string, options: WorkdirOptions): Promise<TerraformWorkdir> {
    const dir = mkdtempSync(join(tmpdir(), 'tf-standin-work-'));
    prepareStackCopy(config, dir);
    const workdir = new TerraformWorkdir(dir, options, typeof config === 'string' ? undefined : config);
    try {
      await workdir.run(['init', '-input=false', '-lock=false']);
    } catch (error) {
      workdir.dispose();
      throw error;
    }
    return workdir;
  }

  private vars: Record<string, string>;

  private constructor(readonly dir: string, private readonly options: WorkdirOptions, config?: TerraformJson) {
    this.vars = config ? fakeVariables(config) : {};
  }

  /** Replaces the configuration (the state and `.terraform` stay). Run `init` again only for new providers. */
  setConfig(config: TerraformJson): void {
    writeFileSync(join(this.dir, 'cdk.tf.json'), JSON.stringify(config, null, 2));
    this.vars = fakeVariables(config);
  }

  /** Runs `terraform <command> -no-color <rest>`; throws {@link TerraformCommandError} on a non-zero exit unless `allowFailure`. */
  async run(args: readonly string[], { allowFailure = false, env = {} }: { allowFailure?: boolean; env?: Record<string, string> } = {}): Promise<TerraformRun> {
    // Flags go before positional arguments (Go's flag parsing stops at the first one); `state` subcommands take none.
    const fullArgs = args[0] === 'state' ? [...args] : [args[0], '-no-color', ...args.slice(1)];
    const run = await runTerraform(fullArgs, {
      cwd: this.dir,
      env: { ...this.options.home.env, ...this.vars, ...this.options.env, ...env },
      timeoutMs: this.options.timeoutMs ?? 120_000,
    });
    if (run.code !== 0 && !allowFailure) throw new TerraformCommandError(fullArgs, this.dir, run);
    return run;
  }

  validate(): Promise<TerraformRun> {
    return this.run(['validate']);
  }

  apply(extraArgs: readonly string[] = []): Promise<TerraformRun> {
    return this.run(['apply', '-input=false', '-lock=false', '-auto-approve', ...extraArgs]);
  }

  /** `plan -out` + `show -json` of that plan, parsed. */
  async planJson(extraArgs: readonly string[] = []): Promise<TerraformJson> {
    await this.run(['plan', '-input=false', '-lock=false', '-out=standin.tfplan', ...extraArgs]);
    return JSON.parse((await this.run(['show', '-json', 'standin.tfplan'])).stdout);
  }

  /** `show -json` of the state, parsed. */
  async stateJson(): Promise<TerraformJson> {
    return JSON.parse((await this.run(['show', '-json'])).stdout);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The resource changes of a plan by address. */
export function changesByAddress(plan: TerraformJson): Record<string, ResourceChange> {
  return Object.fromEntries(((plan.resource_changes ?? []) as ResourceChange[]).map((change) => [change.address, change]));
}

/** `type.name` of every resource a Terraform JSON configuration declares. */
export function declaredResources(config: TerraformJson): string[] {
  return Object.entries((config.resource ?? {}) as Record<string, Record<string, unknown>>)
    .flatMap(([type, resources]) => Object.keys(resources).map((name) => `${type}.${name}`)).sort();
}
