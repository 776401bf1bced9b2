'use strict';
// Running the terraform CLI on a copy of a stack: the copy, clearly fake variable values, and a bounded run.
// Shared by scripts/terraform-check.js and test/support/terraform-cli.ts.
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

/** Override file that keeps the state in the copy: cdktf's local backend names a path on the synthesizing machine. */
const BACKEND_OVERRIDE = 'standin_backend_override.tf.json';

/**
 * Copies a stack directory (or writes a stack's JSON) into `dir`, without `.terraform` or state, and points the
 * backend at `dir/terraform.tfstate`, so a run starts from empty state and leaves nothing behind in the source.
 */
function prepareStackCopy(source, dir) {
  fs.mkdirSync(dir, { recursive: true });
  if (typeof source === 'string') {
    for (const entry of fs.readdirSync(source, { withFileTypes: true })) {
      if (entry.name === '.terraform' || /\.tfstate(\.backup)?$/.test(entry.name) || entry.name === '.terraform.lock.hcl') continue;
      fs.cpSync(path.join(source, entry.name), path.join(dir, entry.name), { recursive: true });
    }
  } else {
    fs.writeFileSync(path.join(dir, 'cdk.tf.json'), JSON.stringify(source, null, 2));
  }
  const override = { terraform: { backend: { local: { path: path.join(dir, 'terraform.tfstate') } } } };
  fs.writeFileSync(path.join(dir, BACKEND_OVERRIDE), JSON.stringify(override, null, 2));
  return dir;
}

function fakeValue(name, type) {
  const kind = typeof type === 'string' ? type.replace(/\s/g, '') : 'string';
  if (kind === 'number') return '0';
  if (kind === 'bool') return 'false';
  if (kind.startsWith('list') || kind.startsWith('set') || kind.startsWith('tuple')) return '[]';
  if (kind.startsWith('map') || kind.startsWith('object')) return '{}';
  return `fake0${name.replace(/[^A-Za-z0-9]/g, '0')}0not0a0secret`; // letters and digits only: fits any secret rule
}

/** TF_VAR_* values for every variable of the stacks' JSON that has no default: obviously fake, never a real secret. */
function fakeVariables(...stacks) {
  const env = {};
  for (const json of stacks) {
    for (const [name, variable] of Object.entries(json.variable ?? {})) {
      if (variable.default === undefined) env[`TF_VAR_${name}`] = fakeValue(name, variable.type);
    }
  }
  return env;
}

/**
 * Runs `terraform <args>` in `cwd` with `env` added, killing it after `timeoutMs`.
 * → { code, stdout, stderr, ms }; code is null when it was killed.
 */
function runTerraform(args, { cwd, env = {}, timeoutMs = 120_000, terraform = 'terraform' }) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(terraform, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`terraform ${args.join(' ')}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: Date.now() - started };
      if (code === null) result.stderr += `\n(killed after ${timeoutMs} ms)`;
      resolve(result);
    });
  });
}

module.exports = { prepareStackCopy, fakeVariables, runTerraform, BACKEND_OVERRIDE };
