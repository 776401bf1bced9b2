import { BehaviourRule, restartApplies, ruleFor } from '../provider-behaviour';

/**
 * What Terraform will do to each resource of a stack when its previous synthesis (already applied) is replaced by
 * the next one, predicted from the two Terraform JSON documents alone: the change report's machine rows. The tests
 * hold the prediction against `terraform plan` with the stand-in providers on every day-2 change of every seed site.
 */

/** Terraform's action, with an in-place update that restarts the guest told apart. */
export type ResourceAction = 'create' | 'update' | 'restart' | 'replace' | 'destroy';

/** The predicted action on one resource, and why. */
export interface ResourceChange {
  /** `type.name`, as Terraform addresses it. */
  readonly address: string;
  readonly action: ResourceAction;
  /** Changed attribute paths (`memory.dedicated`), `(unknown)` marking values only known after apply. */
  readonly changed: readonly string[];
  /** The provider rules that decided a replace or a restart. */
  readonly rules: readonly BehaviourRule[];
  /** `node_name` changed on a VM with `migrate = true`: the update migrates it. */
  readonly migrates?: boolean;
  /**
   * An update whose restart the provider leaves pending (`reboot_after_update = false`): the host's converge step
   * restarts the guest in its rollout slot (`machine-restart.ts`).
   */
  readonly restartsInRollout?: boolean;
  /** Why the resource is replaced when no attribute rule says so (`-replace`, replace_triggered_by). */
  readonly trigger?: string;
}

/** A change that is not in the configuration: rotated variable values and `terraform apply -replace=…` addresses. */
export interface OutOfBandChange {
  /** Variables whose values change (e.g. `admin_ssh_public_key` rotated). */
  readonly variables?: readonly string[];
  /** Addresses replaced on purpose (`-replace`), e.g. a `random_password` to rotate it. */
  readonly replace?: readonly string[];
}

type Json = Record<string, unknown>;
type StackJson = { readonly resource?: Record<string, Record<string, Json>> };

/** Keys of a resource block that configure Terraform, not the resource's attributes. */
const META_KEYS = new Set(['//', 'lifecycle', 'depends_on', 'provisioner', 'connection', 'provider', 'count', 'for_each']);
/** tls: every configurable attribute replaces except this one (shared/providers/hashicorp-tls/README.md, requires-replace.json). */
const TLS_IN_PLACE = new Set(['early_renewal_hours']);

function resourcesOf(stack: StackJson): Map<string, Json> {
  const all = new Map<string, Json>();
  for (const [type, resources] of Object.entries(stack.resource ?? {})) {
    for (const [name, resource] of Object.entries(resources)) {
      all.set(`${type}.${name}`, resource);
    }
  }
  return all;
}

function attributesOf(resource: Json): Json {
  return Object.fromEntries(Object.entries(resource).filter(([key]) => !META_KEYS.has(key)));
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Paths (with indexes) where two configuration values differ; absent and null are the same. */
function differences(before: unknown, after: unknown, path: readonly (string | number)[] = []): (string | number)[][] {
  if ((before ?? null) === (after ?? null)) {
    return [];
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => differences(item, after[index], [...path, index]));
  }
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].flatMap((key) => differences(before[key], after[key], [...path, key]));
  }
  return [[...path]];
}

/** Every string inside a value, with its path. */
function stringsIn(value: unknown, path: readonly (string | number)[] = []): [(string | number)[], string][] {
  if (typeof value === 'string') {
    return [[[...path], value]];
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => stringsIn(item, [...path, index]));
  }
  return isObject(value) ? Object.entries(value).flatMap(([key, item]) => stringsIn(item, [...path, key])) : [];
}

/** References inside `${…}` of a string: `var.x`, `type.name` and `type.name.attribute` (function arguments too). */
export function referencesIn(text: string): { address: string; attribute?: string }[] {
  const found: { address: string; attribute?: string }[] = [];
  for (const [, expression] of text.matchAll(/\$\{([^}]*)\}/g)) {
    for (const [, type, name, attribute] of expression.matchAll(/\b([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([a-z_][a-z0-9_]*))?/g)) {
      found.push({ address: `${type}.${name}`, attribute });
    }
  }
  return found;
}

const withoutIndexes = (path: readonly (string | number)[]) => path.filter((step): step is string => typeof step === 'string');
/** `initialization[0].user_data_file_id` → [initialization, user_data_file_id]. */
const ignorePath = (entry: string) => entry.replace(/\[\d+\]/g, '').split('.');
const startsWith = (path: readonly string[], prefix: readonly string[]) => prefix.every((step, i) => path[i] === step);

/** The action a provider plans for changes at `paths` of an existing resource. */
function providerAction(type: string, paths: readonly (string | number)[][], next: Json): Pick<ResourceChange, 'action' | 'rules' | 'migrates' | 'restartsInRollout'> {
  if (type === 'terraform_data') {
    // terraform_data: triggers_replace replaces; input updates (Terraform's built-in resource).
    return { action: paths.some((path) => path[0] === 'triggers_replace') ? 'replace' : 'update', rules: [] };
  }
  if (type.startsWith('random_')) {
    // Every configurable attribute of random's resources requires replacement (shared/providers/hashicorp-random/README.md).
    return { action: 'replace', rules: [] };
  }
  if (type.startsWith('tls_')) {
    return { action: paths.some((path) => !TLS_IN_PLACE.has(String(path[0]))) ? 'replace' : 'update', rules: [] };
  }
  const rules = paths.map((path) => ruleFor(type, withoutIndexes(path))).filter((rule): rule is BehaviourRule => rule !== undefined);
  const replacing = rules.filter((rule) => rule.effect === 'replace' || (rule.effect === 'replace-unless-migrate' && next.migrate !== true));
  if (replacing.length > 0) {
    return { action: 'replace', rules: replacing };
  }
  const migrates = rules.some((rule) => rule.effect === 'replace-unless-migrate');
  const restarting = rules.filter((rule) => rule.effect === 'restart');
  if (restarting.length > 0) {
    return restartApplies(type, next)
      ? { action: 'restart', rules: restarting, ...(migrates ? { migrates } : {}) }
      : { action: 'update', rules: restarting, restartsInRollout: true, ...(migrates ? { migrates } : {}) };
  }
  return { action: 'update', rules: [], ...(migrates ? { migrates } : {}) };
}

/**
 * Predicts Terraform's plan for `next` against the applied state of `previous`: one entry per resource that
 * changes (no-ops left out). Resources are visited until nothing changes, so a replaced resource makes the values
 * that reference it unknown, and those changes ripple on exactly as in Terraform.
 */
export function predictResourceChanges(previous: StackJson | undefined, next: StackJson, outOfBand: OutOfBandChange = {}): ResourceChange[] {
  const before = resourcesOf(previous ?? {});
  const after = resourcesOf(next);
  const rotatedVariables = new Set(outOfBand.variables ?? []);
  const replacedOnPurpose = new Set(outOfBand.replace ?? []);
  const changes = new Map<string, ResourceChange>();

  const unknownAfterApply = (reference: { address: string; attribute?: string }): boolean => {
    if (reference.address.startsWith('var.')) {
      return rotatedVariables.has(reference.address.slice(4));
    }
    const change = changes.get(reference.address);
    // A new or replaced resource's attributes are known after apply; an updated terraform_data's output too.
    return change !== undefined && (change.action === 'create' || change.action === 'replace'
      || (reference.address.startsWith('terraform_data.') && reference.attribute === 'output'));
  };

  const evaluate = (address: string, resource: Json): ResourceChange | undefined => {
    const prior = before.get(address);
    if (!prior) {
      return { address, action: 'create', changed: [], rules: [] };
    }
    const type = address.split('.')[0];
    const nextAttributes = attributesOf(resource);
    const ignored = ((resource.lifecycle as Json | undefined)?.ignore_changes as string[] | undefined ?? []).map(ignorePath);
    const paths = [
      ...differences(attributesOf(prior), nextAttributes),
      ...stringsIn(nextAttributes).filter(([, text]) => referencesIn(text).some(unknownAfterApply)).map(([path]) => path),
    ].filter((path) => !ignored.some((prefix) => startsWith(withoutIndexes(path), prefix)));
    const unique = [...new Map(paths.map((path) => [path.join('.'), path])).values()];
    const changed = unique.map((path) => path.join('.'));
    if (replacedOnPurpose.has(address)) {
      return { address, action: 'replace', changed, rules: [], trigger: '-replace' };
    }
    const triggeredBy = ((resource.lifecycle as Json | undefined)?.replace_triggered_by as string[] | undefined ?? [])
      .find((trigger) => ['update', 'restart', 'replace'].includes(changes.get(trigger)?.action ?? ''));
    if (triggeredBy) {
      return { address, action: 'replace', changed, rules: [], trigger: `replace_triggered_by ${triggeredBy}` };
    }
    if (unique.length === 0) {
      return undefined;
    }
    // Changes the provider ignores after creation are planned as no change (their paths stay out of `changed`).
    const relevant = unique.filter((path) => ruleFor(type, withoutIndexes(path))?.effect !== 'ignored-after-create');
    return relevant.length === 0 ? undefined
      : { address, changed: relevant.map((path) => path.join('.')), ...providerAction(type, relevant, nextAttributes) };
  };

  // A fixpoint over the reference graph: at most one pass per resource, since references form a DAG.
  for (let pass = 0; pass <= after.size; pass++) {
    let moved = false;
    for (const [address, resource] of after) {
      const change = evaluate(address, resource);
      const current = changes.get(address);
      if (JSON.stringify(change) !== JSON.stringify(current)) {
        moved = true;
        if (change) {
          changes.set(address, change);
        } else {
          changes.delete(address);
        }
      }
    }
    if (!moved) {
      break;
    }
  }
  for (const address of before.keys()) {
    if (!after.has(address)) {
      changes.set(address, { address, action: 'destroy', changed: [], rules: [] });
    }
  }
  return [...changes.values()].sort((a, b) => a.address.localeCompare(b.address));
}
