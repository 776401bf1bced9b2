import { ChildProcess, spawn } from 'child_process';

/** An HTTP answer: status and body. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** One GET, bounded by `timeoutMs`; a refused connection rejects. */
export async function get(url: string, timeoutMs = 2000): Promise<HttpAnswer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

/** GETs `url` until it answers (any status), every 100 ms for at most `timeoutMs`; rejects with the last error after. */
export async function getWhenUp(url: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await get(url);
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(last)}`);
}

/** A daemon this test started: its output so far, and a bounded stop. */
export class Daemon {
  private output = '';
  private readonly child: ChildProcess;

  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk) => { this.output += String(chunk); });
    this.child.stderr!.on('data', (chunk) => { this.output += String(chunk); });
  }

  /** Everything it printed so far (for failure messages). */
  public get log(): string {
    return this.output;
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves once it exited. */
  public stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      this.child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}

/** The value of the sample `name{labels}` in Prometheus text output, or undefined when absent. */
export function sampleValue(metrics: string, name: string, labels: Readonly<Record<string, string>>): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) {
      continue;
    }
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}
