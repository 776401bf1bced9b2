#!/usr/bin/env node
import { plan } from './plan';

const USAGE = `usage: proxmox-k3s-ha plan [--baseline <dir>] [--app "<command>"]

  Runs the cdktf app of the project in the current folder (cdktf.json "app", or --app) into a temporary folder,
  compares each stack with its previous synthesis and prints the change report per stack: hosts new, converged in
  place (files, services reloaded or restarted), replaced or removed, the rollout order and the unsafe changes.
  Writes nothing. Exit status 1 on unsafe changes not accepted in PROXMOX_K3S_HA_ACCEPT_UNSAFE.

  --baseline <dir>   the previous synthesis (a cdktf output folder); default: PROXMOX_K3S_HA_BASELINE, else the
                     "output" of cdktf.json (cdktf.out)
  --app "<command>"  the app command; default: "app" of cdktf.json`;

/** How long the app may run: a TypeScript app compiles first, on a busy machine. */
const APP_TIMEOUT_MS = 10 * 60 * 1000;

/** `--name value` and `--name=value` options of `args`; unknown ones and missing values are usage errors. */
function parseOptions(args: readonly string[], names: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const name = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !names.includes(name)) {
      throw new Error(`${args[i]}: expected one of ${names.map((n) => `--${n}`).join(', ')}`);
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '') {
      throw new Error(`${flag}: (missing) — expected a value`);
    }
    options[name] = value;
  }
  return options;
}

function main(args: readonly string[]): number {
  const [command, ...rest] = args;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'plan') {
    process.stderr.write(`proxmox-k3s-ha: ${JSON.stringify(command)} — expected the command "plan"\n${USAGE}\n`);
    return 2;
  }
  let options: Record<string, string>;
  try {
    options = parseOptions(rest, ['baseline', 'app']);
  } catch (error) {
    process.stderr.write(`proxmox-k3s-ha plan: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  return plan({
    projectDir: process.cwd(),
    app: options.app,
    baseline: options.baseline,
    env: process.env,
    timeoutMs: APP_TIMEOUT_MS,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
}

process.exitCode = main(process.argv.slice(2));
