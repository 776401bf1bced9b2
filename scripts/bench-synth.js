#!/usr/bin/env node
// Benchmark: wall time of the compiled apps synthesizing (a) every site in sites/ and (b) a generated 100-host
// site, each in a fresh Node process as `npm run synth` runs them, 5 runs each; prints median and max, and the
// cost per host. Run through `npm run bench:synth` (which builds first).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

// A child program that synthesizes a generated site with N hosts through both apps' constructs.
const generatedSiteProgram = `
const { App } = require('cdktf');
const cdk8s = require('cdk8s');
const lib = require(${JSON.stringify(path.join(root, 'lib/constructs'))});
const hostCount = Number(process.argv[1]);
const hosts = Array.from({ length: hostCount }, (_, i) => ({
  name: 'node-' + String(i + 1).padStart(3, '0'),
  ip: '10.20.' + Math.floor((i + 11) / 250) + '.' + ((i + 11) % 250 + 1),
  vmId: 1000 + i,
  proxmoxNode: 'pve' + (i % 3 + 1),
  roles: i < 3 ? [lib.HostRole.K3S_SERVER, lib.HostRole.LOAD_BALANCER] : [lib.HostRole.K3S_AGENT],
}));
const site = lib.defineSite({
  name: 'bench', network: { cidr: '10.20.0.0/16', gateway: '10.20.0.1', dnsServers: ['10.20.0.2'], searchDomain: 'bench.test' },
  proxmox: { endpoint: 'https://pve1.bench.test:8006/', nodes: ['pve1', 'pve2', 'pve3'], bridge: 'vmbr0',
    datastores: { disks: 'local-lvm', snippets: 'local', images: 'local' },
    cloudImage: { url: 'https://images.bench.test/noble.img', fileName: 'noble.qcow2' } },
  hosts, apiEndpoint: { vip: '10.20.0.10', port: 8443 },
});
const outdir = process.argv[2];
const app = new App({ outdir: outdir + '/infra' });
new lib.SiteStack(app, site.name, { site, serverManifests: lib.k3sServerManifests(site) });
app.synth();
const k8s = new cdk8s.App({ outdir: outdir + '/k8s', yamlOutputType: cdk8s.YamlOutputType.FOLDER_PER_CHART_FILE_PER_RESOURCE });
new lib.SiteChart(k8s, site.name, { site });
k8s.synth();
`;

function time(label, args) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pkh-bench-'));
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args(outdir), { cwd: root, env: { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1' }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    fs.rmSync(outdir, { recursive: true, force: true });
    if (result.status !== 0) {
      throw new Error(`${label} failed:\n${result.stderr}`);
    }
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  const max = samples[samples.length - 1];
  console.log(`${label.padEnd(42)} median ${median.toFixed(0).padStart(6)} ms   max ${max.toFixed(0).padStart(6)} ms   (${RUNS} runs)`);
  return median;
}

const siteCount = require(path.join(root, 'lib/sites')).SITE_SPECS.length;
const hostsInSites = require(path.join(root, 'lib/sites')).SITE_SPECS.reduce((n, s) => n + s.hosts.length, 0);
console.log(`synth benchmark (compiled apps, fresh node process per run, ${os.cpus().length} cores)`);
time(`all ${siteCount} site(s), ${hostsInSites} hosts, both apps`, (outdir) => ['-e', `
  process.env.CDKTF_OUTDIR = ${JSON.stringify('')} + process.argv[1] + '/infra';
  require(${JSON.stringify(path.join(root, 'lib/infra/main.js'))});
  process.env.CDK8S_OUTDIR = process.argv[1] + '/k8s';
  require(${JSON.stringify(path.join(root, 'lib/k8s/main.js'))});
`, outdir]);
const few = time('generated site, 5 hosts, both apps', (outdir) => ['-e', generatedSiteProgram, '5', outdir]);
const many = time('generated site, 100 hosts, both apps', (outdir) => ['-e', generatedSiteProgram, '100', outdir]);
console.log(`cost per host: ${((many - few) / 95).toFixed(1)} ms (from the 5- and 100-host medians)`);
