#!/usr/bin/env node
// `npm run tf:check [-- [--real-providers] [stack dirs…]]`: runs `terraform init`, `validate` and `plan` (empty
// state, fake variable values) over every synthesized stack in cdktf.out/stacks/ or the given dirs, each in a
// temporary copy, so cdktf.out keeps no .terraform, lock file or state.
// Default: the stand-in providers (tools/standin-providers/), offline. --real-providers: the real providers from
// their registry (needs network), so the stand-ins can be checked against the real thing with the same command.
// Prints one line per stack; exits 1 when any stack fails.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { createTerraformHome } = require('../tools/standin-providers/mirror');
const { prepareStackCopy, fakeVariables, runTerraform } = require('../tools/standin-providers/workdir');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const real = args.includes('--real-providers');
const unknownFlags = args.filter((a) => a.startsWith('-') && a !== '--real-providers');
if (unknownFlags.length > 0) {
  console.error(`terraform-check: unknown option ${unknownFlags.join(', ')} — expected --real-providers and stack directories`);
  process.exit(2);
}
const stacksDir = path.join(root, 'cdktf.out', 'stacks');
const dirs = args.filter((a) => !a.startsWith('-')).map((d) => path.resolve(d));
if (dirs.length === 0 && fs.existsSync(stacksDir)) {
  dirs.push(...fs.readdirSync(stacksDir).sort().map((name) => path.join(stacksDir, name)));
}
if (dirs.length === 0) {
  console.error(`terraform-check: no stacks in ${stacksDir} — run \`npm run synth\` first, or name stack directories`);
  process.exit(2);
}

// init downloads the real providers once into the home's plugin cache; the stand-ins start in about a second.
const TIMEOUT_MS = { init: real ? 600_000 : 60_000, validate: 120_000, plan: 300_000 };

function firstError(result) {
  const text = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.replace(/^[│╷╵]\s?/, '').trim()).filter(Boolean);
  const at = text.findIndex((l) => l.startsWith('Error'));
  return text.slice(at < 0 ? 0 : at, (at < 0 ? 0 : at) + 4).join(' / ');
}

async function checkStack(dir, home, env) {
  const name = path.basename(dir);
  const file = path.join(dir, 'cdk.tf.json');
  if (!fs.existsSync(file)) return { ok: false, line: `FAIL ${name}: no cdk.tf.json in ${dir}` };
  const work = prepareStackCopy(dir, path.join(home, 'stacks', name));
  const runEnv = { ...env, ...fakeVariables(JSON.parse(fs.readFileSync(file, 'utf8'))) };
  const times = [];
  const steps = [
    ['init', ['init', '-input=false', '-lock=false', '-no-color']],
    ['validate', ['validate', '-no-color']],
    ['plan', ['plan', '-input=false', '-lock=false', '-no-color']],
  ];
  let summary = '';
  for (const [step, stepArgs] of steps) {
    const result = await runTerraform(stepArgs, { cwd: work, env: runEnv, timeoutMs: TIMEOUT_MS[step] });
    times.push(`${step} ${(result.ms / 1000).toFixed(1)}s`);
    if (result.code !== 0) return { ok: false, line: `FAIL ${name}: ${step}: ${firstError(result)}` };
    if (step === 'plan') summary = (result.stdout.match(/^Plan: .*$/m) ?? ['no changes'])[0];
  }
  return { ok: true, line: `ok   ${name}: ${times.join(', ')}; ${summary}` };
}

async function main() {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-check-'));
  let failed = 0;
  try {
    const env = createTerraformHome(home, { real });
    console.log(`terraform-check: ${dirs.length} stack(s) with the ${real ? 'real providers' : 'stand-in providers'}`);
    for (const dir of dirs) {
      const { ok, line } = await checkStack(dir, home, env);
      console.log(line);
      if (!ok) failed += 1;
    }
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  console.log(`${dirs.length - failed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(`terraform-check: ${error.stack ?? error}`);
  process.exit(1);
});
