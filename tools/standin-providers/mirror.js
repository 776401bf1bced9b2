'use strict';
// A Terraform home for running the CLI offline: an unpacked filesystem mirror whose provider "binaries" launch the
// stand-ins, and a CLI config that installs only from it. Terraform runs the first file of the package dir named
// `terraform-provider-<type>[_…]`, with no arguments (terraform-plugin-protocol/README.md, "The executable").
const fs = require('fs');
const path = require('path');

/** The providers the generated stacks use, as the stand-ins serve them. */
const STANDIN_PROVIDERS = [
  { namespace: 'bpg', type: 'proxmox', version: '0.111.1' },
  { namespace: 'hashicorp', type: 'random', version: '3.7.2' },
  { namespace: 'hashicorp', type: 'tls', version: '4.1.0' },
];
const REGISTRY_HOST = 'registry.terraform.io';
const PLATFORM = 'linux_amd64';

function hcl(value) {
  return JSON.stringify(value); // a JSON string is a valid HCL string literal
}

function writeLauncher(mirrorDir, provider) {
  const dir = path.join(mirrorDir, REGISTRY_HOST, provider.namespace, provider.type, provider.version, PLATFORM);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `terraform-provider-${provider.type}_v${provider.version}`);
  const main = path.join(__dirname, 'main.js');
  if ([process.execPath, main].some((p) => p.includes("'"))) throw new Error(`${main}: a path with a single quote cannot go into the launcher`);
  fs.writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${main}' ${provider.type}\n`, { mode: 0o755 });
}

/**
 * Writes a Terraform home in `dir` and returns the environment to run `terraform` with.
 * - default: `<dir>/mirror` holds launchers of the stand-ins; `<dir>/terraformrc` installs from there only.
 * - `{ real: true }`: no mirror; providers come from their registry as usual, cached in `<dir>/plugin-cache`.
 */
function createTerraformHome(dir, { real = false } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'terraformrc');
  let config;
  if (real) {
    const cache = path.join(dir, 'plugin-cache');
    fs.mkdirSync(cache, { recursive: true });
    config = `plugin_cache_dir = ${hcl(cache)}\n`;
  } else {
    const mirrorDir = path.join(dir, 'mirror');
    STANDIN_PROVIDERS.forEach((provider) => writeLauncher(mirrorDir, provider));
    const include = STANDIN_PROVIDERS.map((p) => `${REGISTRY_HOST}/${p.namespace}/${p.type}`);
    // No `direct` block: any other provider fails to install instead of reaching for the network.
    config = `provider_installation {\n  filesystem_mirror {\n    path    = ${hcl(mirrorDir)}\n    include = ${JSON.stringify(include)}\n  }\n}\n`;
  }
  fs.writeFileSync(configFile, config);
  return { TF_CLI_CONFIG_FILE: configFile, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1' };
}

module.exports = { createTerraformHome, STANDIN_PROVIDERS };
