'use strict';
// bpg/proxmox 0.111.1, state only: no Proxmox is contacted and no machine is made. Plans follow the provider's
// replace / migrate / ignored-after-create rules, read from ONE place, the library's provider-behaviour module
// (constructs/tf/provider-behaviour.ts, each rule citing vm.go / container.go / file.go / dl.go); applies return the
// plan with the unknowns filled deterministically (./proxmox-fill.js) and log the guest restarts a real apply does.
const path = require('path');
const { spawnSync } = require('child_process');
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

const GUEST_TYPES = new Set(['proxmox_virtual_environment_vm', 'proxmox_virtual_environment_container']);
/** How long a guest hook may run before the apply fails. */
const GUEST_HOOK_TIMEOUT_MS = 600_000;

/**
 * Lab mode: `PKH_STANDIN_GUEST_HOOK` names an executable that acts out, on a lab host, what a real apply does to a
 * guest: `<hook> create|restart|migrate|destroy <name>`, run to completion before the apply of the resource
 * returns (as the real provider waits for the guest). A non-zero exit fails the apply with the hook's output.
 * Without it the stand-in touches nothing (state only).
 */
function guestEvent(type, event, name) {
  const hook = process.env.PKH_STANDIN_GUEST_HOOK;
  if (!hook || !GUEST_TYPES.has(type)) return;
  const result = spawnSync(hook, [event, name], { encoding: 'utf8', timeout: GUEST_HOOK_TIMEOUT_MS });
  if (result.status !== 0) {
    throw new Error(`guest ${name}: ${event} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${`${result.stdout ?? ''}${result.stderr ?? ''}`.trim()}`);
  }
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
      if (prior === null) {
        guestEvent(type, 'create', guestName(planned));
      } else {
        for (const event of logUpdate(type, prior, planned)) guestEvent(type, event, guestName(planned));
      }
      return { state: fillUnknowns(block, planned, FILLERS[type] ?? {}) };
    },
    destroy({ prior }) {
      guestEvent(type, 'destroy', guestName(prior));
      return { state: null };
    },
    read({ state, private: privateValue }) {
      return { state, private: privateValue };
    },
  };
}

/**
 * A real apply restarts or migrates the guest for some changes: say so on stderr (Terraform logs it), and return
 * what happens to the guest, in order (`migrate`, `restart`).
 */
function logUpdate(type, prior, planned) {
  const name = guestName(planned);
  const restarts = new Set();
  const pending = new Set();
  const events = [];
  for (const changed of changedPaths(prior, planned)) {
    const rule = ruleFor(type, namesOf(changed));
    if (rule?.effect === 'restart') (restartApplies(type, planned) ? restarts : pending).add(rule.path);
    if (rule?.effect === 'replace-unless-migrate') {
      log(`would migrate guest ${name}: ${pathText(changed)} ${getAt(prior, changed)} → ${getAt(planned, changed)}`);
      events.push('migrate');
    }
  }
  if (restarts.size > 0) {
    log(`would restart guest ${name}: ${[...restarts].join(', ')}`);
    events.push('restart');
  }
  // reboot_after_update = false: the change stays pending in Proxmox and the provider only warns (vm.go 2215-2240).
  if (pending.size > 0) log(`would leave a restart pending for guest ${name}: ${[...pending].join(', ')}`);
  return events;
}

module.exports = {
  address: ADDRESS,
  version: '0.111.1',
  protocol: 6,
  schema,
  configure() {},
  resources: Object.fromEntries(BPG_PROXMOX_MODELLED_RESOURCES.map((type) => [type, resourceModel(type)])),
};
