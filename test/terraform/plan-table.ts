import { SiteSpec, defineSite } from '../../constructs';
import { compareSyntheses, machineChanges, referencesIn, restartApplies, ruleFor } from '../../constructs/tf';
import { synthSite } from '../support/synth';
import { StandinHome, TerraformJson, TerraformWorkdir, changesByAddress, declaredResources } from '../support/terraform-cli';
import { DAY2_CHANGES, Day2Change, Day2Edit } from './day2-changes';

/**
 * The day-2 plan table: every change of DAY2_CHANGES planned by the real Terraform CLI (stand-in providers) against
 * the applied state of a seed site, next to the change report's prediction and its verdict.
 */

export type Action = 'create' | 'update' | 'restart' | 'replace' | 'destroy';

export interface PlanRow {
  readonly site: string;
  readonly change: string;
  /** Terraform's plan, by resource address (no-ops left out). */
  readonly terraform: Readonly<Record<string, Action>>;
  /** The change report's prediction, by resource address. */
  readonly predicted: Readonly<Record<string, Action>>;
  /** The hosts whose machine Terraform restarts or replaces. */
  readonly machines: Readonly<Record<string, Action>>;
  /** Hosts whose machine restart the change report says happens in their rollout slot (`machine-restart.ts`), sorted. */
  readonly rolledRestarts: readonly string[];
  /** The change report's unsafe problems (refused at synth). */
  readonly problems: readonly string[];
  /** Hosts whose converge step Terraform runs again (replaces), sorted. */
  readonly reconverged: readonly string[];
  /** Hosts the change report says converge again (in place, or as part of a replacement), sorted. */
  readonly reportedConverging: readonly string[];
  /**
   * For a rotation (variables or `-replace`): the hosts whose configuration uses a rotated value, read from their
   * converge steps' secrets trigger in the new synthesis, sorted; else undefined.
   */
  readonly usingRotated?: readonly string[];
}

/**
 * The configuration without provisioners, for applying a baseline here: they run SSH on hosts that do not exist in
 * this lab. Terraform keeps no trace of provisioners in its state, so the state is the one a real apply leaves.
 */
export function withoutProvisioners(config: TerraformJson): TerraformJson {
  const copy = JSON.parse(JSON.stringify(config)) as TerraformJson;
  for (const resources of Object.values((copy.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>)) {
    for (const resource of Object.values(resources)) {
      delete resource.provisioner;
      delete resource.connection;
    }
  }
  return copy;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Attribute paths (indexes left out) where Terraform's `before` and `after` differ, `after_unknown` counting as a change. */
export function changedPaths(before: unknown, after: unknown, unknown: unknown, path: string[] = []): string[][] {
  if (unknown === true) {
    return [path];
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, i) => changedPaths(item, after[i], Array.isArray(unknown) ? unknown[i] : undefined, path));
  }
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .flatMap((key) => changedPaths(before[key], after[key], isObject(unknown) ? unknown[key] : undefined, [...path, key]));
  }
  return JSON.stringify(before ?? null) === JSON.stringify(after ?? null) ? [] : [path];
}

/** Terraform's action on each resource of a saved plan; an update is a restart when a restart rule covers a changed path. */
export function terraformActions(plan: TerraformJson): Record<string, Action> {
  const actions: Record<string, Action> = {};
  for (const [address, change] of Object.entries(changesByAddress(plan))) {
    const verbs = change.change.actions.join(',');
    const action: Action | undefined = verbs === 'create' ? 'create' : verbs === 'delete' ? 'destroy' : verbs === 'update' ? 'update'
      : verbs === 'delete,create' || verbs === 'create,delete' ? 'replace' : undefined;
    if (!action) {
      continue;
    }
    const after = change.change.after as Record<string, unknown>;
    const restarts = action === 'update' && restartApplies(change.type, after ?? {})
      && changedPaths(change.change.before, after, (change.change as { after_unknown?: unknown }).after_unknown)
        .some((path) => ruleFor(change.type, path)?.effect === 'restart');
    actions[address] = restarts ? 'restart' : action;
  }
  return actions;
}

/** The `-replace=` addresses an edit asks for. */
function replaceAddresses(edit: Day2Edit, config: TerraformJson): string[] {
  return edit.replaceMatching ? declaredResources(config).filter((address) => edit.replaceMatching!.test(address)) : [];
}

async function planEdit(workdir: TerraformWorkdir, site: string, change: Day2Change, baseline: TerraformJson, edit: Day2Edit): Promise<PlanRow> {
  const next = synthSite(defineSite(edit.spec), edit.customize).json;
  const replace = replaceAddresses(edit, next);
  workdir.setConfig(next);
  const env = Object.fromEntries(Object.entries(edit.variables ?? {}).map(([name, value]) => [`TF_VAR_${name}`, value]));
  await workdir.run(['plan', '-input=false', '-lock=false', '-refresh=false', '-out=standin.tfplan', ...replace.map((address) => `-replace=${address}`)], { env });
  const plan = JSON.parse((await workdir.run(['show', '-json', 'standin.tfplan'])).stdout) as TerraformJson;
  const terraform = terraformActions(plan);
  const report = compareSyntheses(site, baseline, next, { variables: Object.keys(edit.variables ?? {}), replace });
  const predicted = Object.fromEntries(report.resources.map((resource) => [resource.address, resource.action]));
  const machines = Object.fromEntries(machineChanges(report.resources, baseline, next)
    .filter(({ change: resourceChange }) => terraform[resourceChange.address] !== undefined)
    .map(({ host, change: resourceChange }) => [host, terraform[resourceChange.address]]));
  const rotated = [...Object.keys(edit.variables ?? {}).map((name) => `var.${name}`), ...replace];
  return {
    site, change: change.name, terraform, predicted, machines, problems: report.problems,
    rolledRestarts: report.hosts.filter((host) => host.machine?.restartsInRollout).map((host) => host.host).sort(),
    reconverged: convergeSteps(next).filter(({ address }) => terraform[address] === 'replace').map(({ host }) => host).sort(),
    reportedConverging: report.hosts.filter((host) => host.action === 'converge' || host.action === 'replaced').map((host) => host.host).sort(),
    ...(rotated.length > 0 ? {
      usingRotated: convergeSteps(next).filter(({ secrets }) => referencesIn(secrets).some((reference) => rotated.includes(reference.address))).map(({ host }) => host).sort(),
    } : {}),
  };
}

/** The converge steps of a synthesized stack: address, host and secrets trigger. */
function convergeSteps(config: TerraformJson): { address: string; host: string; secrets: string }[] {
  return Object.entries((config.resource?.terraform_data ?? {}) as Record<string, { input?: { host?: string; files?: unknown }; triggers_replace?: { secrets?: string } }>)
    .filter(([, resource]) => typeof resource.input?.host === 'string' && resource.input.files !== undefined && resource.triggers_replace?.secrets !== undefined)
    .map(([name, resource]) => ({ address: `terraform_data.${name}`, host: resource.input!.host!, secrets: resource.triggers_replace!.secrets! }));
}

/** Applies the site, then plans every change that applies to it; the chained changes (removal after decommission) last. */
export async function planTableForSite(spec: SiteSpec, home: StandinHome, changes: readonly Day2Change[] = DAY2_CHANGES): Promise<PlanRow[]> {
  const baseline = synthSite(defineSite(spec)).json;
  const workdir = await TerraformWorkdir.create(withoutProvisioners(baseline), { home, timeoutMs: 180_000 });
  const rows: PlanRow[] = [];
  try {
    await workdir.apply();
    for (const change of changes.filter((c) => !c.after)) {
      const edit = change.change(spec);
      if (edit) {
        rows.push(await planEdit(workdir, spec.name, change, baseline, edit));
      }
    }
    for (const change of changes.filter((c) => c.after)) {
      const first = changes.find((c) => c.name === change.after)!.change(spec);
      if (!first) {
        continue;
      }
      const applied = synthSite(defineSite(first.spec)).json;
      workdir.setConfig(withoutProvisioners(applied));
      await workdir.apply();
      rows.push(await planEdit(workdir, spec.name, change, applied, change.change(first.spec) ?? change.change(spec)!));
    }
  } finally {
    workdir.dispose();
  }
  return rows;
}

/** `proxmox_virtual_environment_vm.cp1_33051384` → `vm cp1`. */
function shortName(address: string): string {
  const [type, name] = address.split('.');
  const kind = type.replace(/^proxmox_(virtual_environment_)?/, '').replace(/_file$/, ' file');
  return `${kind} ${name.replace(/_[0-9A-F]{8}$/, '')}`;
}

/** The table as Markdown: one row per site and change. */
export function formatPlanTable(rows: readonly PlanRow[]): string {
  const lines = [
    '| change | site | Terraform plan (stand-in providers) | machines restarted / replaced | change report | verdict |',
    '|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const byAction = (['create', 'update', 'restart', 'replace', 'destroy'] as const)
      .map((action) => [action, Object.entries(row.terraform).filter(([, a]) => a === action).map(([address]) => shortName(address))] as const)
      .filter(([, addresses]) => addresses.length > 0)
      .map(([action, addresses]) => `${action} ${addresses.length}${action === 'update' || action === 'create' ? '' : `: ${addresses.join(', ')}`}`);
    const machines = Object.entries(row.machines).filter(([host, a]) => a === 'restart' || a === 'replace' || row.rolledRestarts.includes(host))
      .map(([host, a]) => `${host} (${row.rolledRestarts.includes(host) ? 'restart in its rollout slot' : a})`);
    const agrees = JSON.stringify(sorted(row.terraform)) === JSON.stringify(sorted(row.predicted));
    const verdict = row.problems.length > 0 ? `**unsafe**, refused (${row.problems.length})` : 'safe';
    lines.push(`| ${row.change} | ${row.site} | ${byAction.join('; ') || 'no changes'} | ${machines.join(', ') || '-'} | ${agrees ? 'agrees' : 'DIFFERS'} | ${verdict} |`);
  }
  return lines.join('\n');
}

export const sorted = (record: Readonly<Record<string, string>>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
