import { ChildProcess, spawn } from 'child_process';

/** How a finished Terraform run ended: exit status, stdout and stderr interleaved as they came, duration. */
export interface TerraformResult {
  readonly status: number | null;
  readonly output: string;
  readonly ms: number;
}

/** Settings every run gets: no update check, no CLI config of this machine, none of this process's TF_* settings. */
export function terraformEnv(cliConfigFile: string, extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key, value]) => !key.startsWith('TF_') && value !== undefined)) as Record<string, string>;
  return { ...inherited, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: cliConfigFile, ...extra };
}

/**
 * One `terraform` process in its own process group: its output so far, a bounded wait for a line, stdin for a
 * confirmation, and its end. It is killed (the whole group) when it outlives `timeoutMs`.
 */
export class TerraformProcess {
  private text = '';
  private readonly child: ChildProcess;
  private readonly started = Date.now();
  /** Resolves when the process has exited. */
  public readonly done: Promise<TerraformResult>;

  constructor(public readonly args: readonly string[], cwd: string, env: Record<string, string>, timeoutMs: number) {
    this.child = spawn('terraform', args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    // A process that has ended closes its stdin: typing to it then is not an error of the test (EPIPE).
    this.child.stdin!.on('error', () => undefined);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { this.text += chunk; });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.text += chunk; });
    this.done = new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.text += `\n(killed: terraform ${args.join(' ')} ran longer than ${timeoutMs} ms)\n`;
        this.kill();
      }, timeoutMs);
      this.child.on('error', (error) => { this.text += `\n${String(error)}\n`; });
      this.child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, output: this.text, ms: Date.now() - this.started });
      });
    });
  }

  /** Everything printed so far. */
  public get output(): string {
    return this.text;
  }

  /** True while the process runs. */
  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until the output matches `pattern`; throws with the output when it ends or `timeoutMs` passes first. */
  public async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.text)) {
      if (!this.running) {
        throw new Error(`terraform ${this.args.join(' ')} ended before printing ${pattern}:\n${this.text}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`terraform ${this.args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${this.text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Types `text` on the process's standard input (e.g. `yes\n` at a confirmation prompt). */
  public type(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Closes the process's standard input (Terraform then takes no input). */
  public closeInput(): void {
    this.child.stdin!.end();
  }

  /** Ends the process group at once (cleanup). */
  public kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Runs `terraform args` in `cwd` to its end (bounded by `timeoutMs`), with stdin closed. */
export async function runTerraform(cwd: string, args: readonly string[], env: Record<string, string>, timeoutMs = 120_000): Promise<TerraformResult> {
  const run = new TerraformProcess(args, cwd, env, timeoutMs);
  run.closeInput();
  return run.done;
}

/** Fails (with the run's output) unless it exited with `status`. */
export function expectExitStatus(result: TerraformResult, status: number): void {
  if (result.status !== status) {
    throw new Error(`expected exit status ${status}, got ${result.status}:\n${result.output}`);
  }
}
