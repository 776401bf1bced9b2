import { execFileSync } from 'child_process';

/** True when `command` is on PATH. */
export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` when every tool is installed; otherwise the suite is reported as skipped with the reason in its name
 * (and a warning), never passed silently.
 */
export function describeWithTools(tools: readonly string[], name: string, body: () => void, options: { needsRoot?: boolean } = {}): void {
  const notRoot = options.needsRoot === true && !(typeof process.getuid === 'function' && process.getuid() === 0);
  const missing = [...tools.filter((tool) => !hasCommand(tool)), ...(notRoot ? ['root privileges'] : [])];
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const reason = `skipped: ${missing.join(', ')} missing (npm test installs the tools when run as root)`;
  console.warn(`${name}: ${reason}`);
  describe.skip(`${name} [${reason}]`, body);
}
