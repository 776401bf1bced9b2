import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

export interface ToolResult {
  readonly ok: boolean;
  readonly output: string;
}

/** Writes `text` to a temporary file, runs `command args... <file>`, and removes the file. */
export function runOnFile(command: string, args: readonly string[], text: string, fileName: string): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'pkh-validate-'));
  try {
    const file = join(dir, fileName);
    writeFileSync(file, text);
    const result = spawnSync(command, [...args, file], { encoding: 'utf8', timeout: 60_000 });
    return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `cloud-init schema --config-file`: the real cloud-init validates a rendered `#cloud-config`. */
export function cloudInitSchema(text: string): ToolResult {
  return runOnFile('cloud-init', ['schema', '--config-file'], text, 'user-data.yaml');
}

/** `shellcheck` at every severity, in POSIX sh mode unless a script names another shell (e.g. `bash`). */
export function shellcheck(text: string, shell = 'sh'): ToolResult {
  return runOnFile('shellcheck', [`--shell=${shell}`, '--severity=style'], text, 'provision.sh');
}

/**
 * Replaces Terraform expressions (`${var.x}`, `${random_password.y.result}`) in synthesized text with plausible
 * values, and unescapes `$${`/`%%{`, giving the text the machine will receive.
 */
export function interpolateForValidation(text: string): string {
  const placeholder = (expression: string): string => {
    if (expression.includes('ssh_public_key')) {
      return 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtestkeyonlyfortests operator@example';
    }
    return 'PLACEHOLDER-SECRET-0123456789';
  };
  return text
    .replace(/(?<!\$)\$\{([^}]*)\}/g, (_, expression: string) => placeholder(expression))
    .replace(/\$\$\{/g, '${')
    .replace(/%%\{/g, '%{');
}
