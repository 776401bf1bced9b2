#!/usr/bin/env node
// Regenerates the typed bpg/proxmox bindings from the committed offline provider schema with cdktf's own
// provider generator (the same code `cdktf get` runs), so no Terraform registry access is needed.
'use strict';
process.env.CHECKPOINT_DISABLE = '1';
process.env.DISABLE_VERSION_CHECK = '1';

const fs = require('fs');
const path = require('path');
const { CodeMaker } = require('codemaker');
// The package index eagerly resolves jsii-pacmak (only needed for non-TypeScript targets): load the class directly.
const { TerraformProviderGenerator } = require('@cdktf/provider-generator/lib/get/generator/provider-generator');
const { ConstructsMakerProviderTarget, TerraformProviderConstraint, LANGUAGES } = require('@cdktf/commons');

const PROVIDER_FQN = 'registry.terraform.io/bpg/proxmox';
const PROVIDER_VERSION = '0.111.1';
const root = path.resolve(__dirname, '..');
const schemaPath = process.env.PROXMOX_SCHEMA ?? path.resolve(root, '../shared/providers/bpg-proxmox/schema.json');
const outDir = process.env.PROXMOX_BINDINGS_OUT ?? path.join(root, 'constructs/tf/generated');

async function main() {
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  schema.provider_versions = { [PROVIDER_FQN]: PROVIDER_VERSION };
  const code = new CodeMaker();
  const generator = new TerraformProviderGenerator(code, schema);
  const typescript = LANGUAGES[0];
  generator.generate(new ConstructsMakerProviderTarget(new TerraformProviderConstraint(`bpg/proxmox@= ${PROVIDER_VERSION}`), typescript));
  fs.rmSync(outDir, { recursive: true, force: true });
  await generator.save(outDir);
  console.log(`generated bpg/proxmox ${PROVIDER_VERSION} bindings into ${outDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
