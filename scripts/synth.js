#!/usr/bin/env node
// Synthesizes every site (or SITE=a,b) with the compiled apps: Terraform JSON into cdktf.out/ and the GitOps
// manifests into dist/k8s/<site>/. Both apps write into a temporary directory first; the real output folders are
// replaced only when both succeed, so an invalid site leaves no partial or mixed output behind.
// The new synthesis is compared with the previous one in cdktf.out/ (or PREVIOUS=<dir>): an unsafe change (a K3s
// downgrade or skipped minor, a kubeadm version change, servers leaving below quorum) fails and writes nothing.
// --plan prints the change report per site and host (new, converge in place, replaced, removed; rollout order)
// and writes nothing.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const targets = { infra: path.join(root, 'cdktf.out'), k8s: path.join(root, 'dist/k8s') };
const env = { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1' };

function run(app, outdir) {
  const result = spawnSync(process.execPath, [path.join(root, 'lib', app, 'main.js')], {
    cwd: root,
    env: { ...env, CDKTF_OUTDIR: outdir, CDK8S_OUTDIR: outdir },
    stdio: 'inherit',
  });
  return result.status === 0;
}

// The compiled app does not print annotations (only the cdktf CLI does): show the sites' warnings here.
function printWarnings(manifestFile) {
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  for (const stack of Object.values(manifest.stacks)) {
    for (const annotation of stack.annotations ?? []) {
      if (annotation.level === '@cdktf/warn' || annotation.level === '@cdktf/error') {
        console.warn(`${annotation.level === '@cdktf/warn' ? 'warning' : 'error'}: ${annotation.constructPath}: ${annotation.message}`);
      }
    }
  }
}

const planOnly = process.argv.includes('--plan');
const previousDir = process.env.PREVIOUS ? path.resolve(process.env.PREVIOUS) : targets.infra;

/** Compares each staged stack with the previous synthesis; prints the reports (plan) and returns the problems. */
function compareWithPrevious(stagedInfra) {
  const { compareSyntheses, formatChangeReport } = require(path.join(root, 'lib/constructs/tf/lifecycle/change-report.js'));
  const problems = [];
  for (const site of fs.readdirSync(path.join(stagedInfra, 'stacks')).sort()) {
    const read = (dir) => {
      const file = path.join(dir, 'stacks', site, 'cdk.tf.json');
      return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
    };
    const report = compareSyntheses(site, read(previousDir), read(stagedInfra));
    if (planOnly) {
      console.log(formatChangeReport(site, report));
    }
    problems.push(...report.problems);
  }
  return problems;
}

const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'proxmox-k3s-ha-synth-'));
try {
  const ok = run('infra', path.join(staging, 'infra')) && run('k8s', path.join(staging, 'k8s'));
  const problems = ok ? compareWithPrevious(path.join(staging, 'infra')) : [];
  if (!ok) {
    console.error('synth failed: nothing was written');
    process.exitCode = 1;
  } else if (problems.length > 0) {
    problems.forEach((problem) => console.error(`unsafe change: ${problem}`));
    console.error(`${problems.length} unsafe change(s) against ${path.relative(root, previousDir) || '.'}: nothing was written`);
    process.exitCode = 1;
  } else if (planOnly) {
    console.log(`compared with ${path.relative(root, previousDir) || '.'}: nothing was written`);
  } else {
    for (const [app, target] of Object.entries(targets)) {
      fs.rmSync(target, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.cpSync(path.join(staging, app), target, { recursive: true });
    }
    const stacks = fs.readdirSync(path.join(targets.infra, 'stacks'));
    printWarnings(path.join(targets.infra, 'manifest.json'));
    console.log(`synthesized ${stacks.length} site(s): ${stacks.join(', ')} → cdktf.out/stacks/, dist/k8s/`);
  }
} finally {
  fs.rmSync(staging, { recursive: true, force: true });
}
