'use strict';
// bpg/proxmox 0.111.1, state only: no Proxmox is contacted and no machine is made. Plans follow the provider's
// replace / migrate / ignored-after-create rules, read from ONE place, the library's provider-behaviour module
// (constructs/tf/provider-behaviour.ts, each rule citing vm.go / container.go / file.go / dl.go); applies return the
// plan with the unknowns filled deterministically (./proxmox-fill.js) and log the guest restarts a real apply does.
const path = require('path');
const { loadProviderSchema } = require('../shared');
const { pathText } = require('../codec');
const { changedPaths, getAt, setAt, namesOf, unknownComputed, fillUnknowns } = require('../values');
const { FILLERS } = require('./proxmox-fill');

const ADDRESS = 'registry.terraform.io/bpg/proxmox';
const schema = loadProviderSchema('bpg-proxmox/schema.json', ADDRESS);

function loadBehaviour() {
  const file = path.resolve(__dirname, '../../../lib/constructs/tf/provider-behaviour.js');
  try {
    return require(file);
  } catch (error) {
    throw new Error(`${file}: cannot load the provider behaviour rules (${error.message}); run \`npm run build\` first`);
  }
}
const { ruleFor, restartApplies, BPG_PROXMOX_MODELLED_RESOURCES } = loadBehaviour();

function log(message) {
  process.stderr.write(`[stand-in bpg/proxmox] ${message}\n`);
}

/** How a guest is named in log lines. */
function guestName(value) {
  return value?.name ?? value?.initialization?.[0]?.hostname ?? value?.source_raw?.[0]?.file_name ?? value?.file_name ?? value?.id ?? '(unnamed)';
}

/** The SDKv2 resources (vm, container, file) and the framework download (bpg-proxmox/README.md, "Contents"). */
function resourceModel(type) {
  const block = schema.resource_schemas[type].block;
  return {
    plan({ prior, proposed }) {
      if (prior === null) return { planned: unknownComputed(block, proposed) };
      let planned = proposed;
      const requiresReplace = [];
      let legacyTypeSystem = false;
      for (const changed of changedPaths(prior, proposed)) {
        const rule = ruleFor(type, namesOf(changed));
        if (!rule) continue; // an in-place update
        if (rule.effect === 'replace' || (rule.effect === 'replace-unless-migrate' && proposed.migrate !== true)) {
          requiresReplace.push(changed);
        } else if (rule.effect === 'ignored-after-create') {
          // The provider suppresses the diff, so the plan keeps the prior value. The real SDKv2 server tolerates a
          // planned value that differs from config through the legacy type system flag; so does this one here.
          planned = setAt(planned, changed, getAt(prior, changed));
          legacyTypeSystem = true;
        }
      }
      return { planned, requiresReplace, legacyTypeSystem };
    },
    apply({ prior, planned }) {
      if (prior !== null) logUpdate(type, prior, planned);
      return { state: fillUnknowns(block, planned, FILLERS[type] ?? {}) };
    },
    read({ state, private: privateValue }) {
      return { state, private: privateValue };
    },
  };
}

/** A real apply restarts or migrates the guest for some changes: say so on stderr (Terraform logs it). */
function logUpdate(type, prior, planned) {
  const name = guestName(planned);
  const restarts = new Set();
  for (const changed of changedPaths(prior, planned)) {
    const rule = ruleFor(type, namesOf(changed));
    if (rule?.effect === 'restart' && restartApplies(type, planned)) restarts.add(rule.path);
    if (rule?.effect === 'replace-unless-migrate') log(`would migrate guest ${name}: ${pathText(changed)} ${getAt(prior, changed)} → ${getAt(planned, changed)}`);
  }
  if (restarts.size > 0) log(`would restart guest ${name}: ${[...restarts].join(', ')}`);
}

module.exports = {
  address: ADDRESS,
  version: '0.111.1',
  protocol: 6,
  schema,
  configure() {},
  resources: Object.fromEntries(BPG_PROXMOX_MODELLED_RESOURCES.map((type) => [type, resourceModel(type)])),
};
