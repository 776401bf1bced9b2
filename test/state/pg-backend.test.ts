import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { StandinHome, createStandinHome, declaredResources } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { PostgresServer } from './postgres-server';
import { StateStack, SynthesizedStack, seedSpec, synthStateStacks, variableValues } from './state-stacks';
import { TerraformProcess, expectExitStatus, runTerraform, terraformEnv } from './terraform-process';

/** The parts of a Terraform state file the tests read. */
interface TfState {
  readonly serial: number;
  readonly lineage: string;
  readonly resources: readonly { readonly type: string; readonly name: string }[];
  readonly outputs: Record<string, { readonly value: unknown }>;
}

/**
 * Terraform's pg backend against a real PostgreSQL server, with the generated site stacks: state locking between
 * two applies of one site, and one schema per site. The stacks' secrets are `random_password` resources served
 * by the stand-in random provider, so real resources are written while the lock is held.
 */
describeWithTools(['terraform', 'runuser', ...(PostgresServer.binDir() ? [] : ['PostgreSQL (/usr/lib/postgresql/<version>/bin)'])],
  'Terraform state in PostgreSQL (pg backend, real server)', () => {
    let server: PostgresServer | undefined;
    let work: string;
    let standin: StandinHome;
    const running: TerraformProcess[] = [];

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'state-pg-test-'));
      standin = createStandinHome();
      server = await PostgresServer.start();
    }, 120_000);

    afterAll(async () => {
      running.forEach((run) => run.kill());
      await server?.stop();
      standin?.dispose();
      rmSync(work, { recursive: true, force: true });
    }, 60_000);

    /** The environment of a run for `stack`: stand-in providers, the connection string, its variables. */
    const envFor = (stack: SynthesizedStack) => terraformEnv(standin.env.TF_CLI_CONFIG_FILE, {
      ...standin.env, PG_CONN_STR: server!.connectionString, ...variableValues(stack.json),
    });
    const terraform = (stack: SynthesizedStack, args: readonly string[], timeoutMs?: number) => runTerraform(stack.dir, args, envFor(stack), timeoutMs);
    const started = (stack: SynthesizedStack, args: readonly string[], timeoutMs = 300_000) => {
      const run = new TerraformProcess(args, stack.dir, envFor(stack), timeoutMs);
      running.push(run);
      return run;
    };
    /** A site's states as PostgreSQL holds them: the `states` rows of its schema (workspace name → state JSON). */
    const statesIn = (schema: string) => new Map(Object.entries(JSON.parse(server!.sql(`SELECT coalesce(jsonb_object_agg(name, data::jsonb), '{}') FROM ${schema}.states`)))) as Map<string, TfState>;
    const stateList = async (stack: SynthesizedStack) => {
      const result = await terraform(stack, ['state', 'list', '-no-color']);
      expectExitStatus(result, 0);
      return result.output.trim().split('\n').filter(Boolean).sort();
    };
    const noSecretShown = (...outputs: string[]) => outputs.forEach((output) => {
      expect(output).not.toContain(server!.password);
      expect(output).not.toContain(server!.connectionString);
    });

    test('one site, two applies at once: the second fails on the lock with -lock-timeout=0s, waits with a longer one, and the state stays whole', async () => {
      const lab = (secrets: StateStack['secrets']) => ({ spec: seedSpec('lab'), secrets, backend: { type: 'pg' } as const });
      // A first apply creates the site's workspace (no provider: only the outputs); the locked apply then adds the secrets.
      const baseline = synthStateStacks(join(work, 'baseline'), [lab('variables')]).get('lab')!;
      expect(JSON.stringify(baseline.json)).not.toContain(server!.password);
      expectExitStatus(await terraform(baseline, ['init', '-input=false', '-no-color']), 0);
      expectExitStatus(await terraform(baseline, ['apply', '-auto-approve', '-input=false', '-no-color']), 0);
      const before = statesIn('proxmox_k3s_ha_lab').get('default');
      expect(before).toBeDefined();

      // Two checkouts of the same project with the secrets generated: one person per checkout.
      const first = synthStateStacks(join(work, 'checkout-1'), [lab('generated')]).get('lab')!;
      const second = synthStateStacks(join(work, 'checkout-2'), [lab('generated')]).get('lab')!;
      const expectedResources = declaredResources(first.json);
      expect(expectedResources.filter((address) => address.startsWith('random_password.')).length).toBeGreaterThanOrEqual(2);
      for (const stack of [first, second]) {
        expectExitStatus(await terraform(stack, ['init', '-input=false', '-no-color']), 0);
      }

      // The first apply waits for its "yes" and holds the state lock meanwhile.
      const held = started(first, ['apply', '-no-color']);
      await held.waitForOutput(/Enter a value:/, 120_000);
      expect(held.output).toMatch(new RegExp(`Plan: ${expectedResources.length} to add, 0 to change, 0 to destroy`));

      const impatient = await terraform(second, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=0s']);
      expect(impatient.status).toBe(1);
      // pg backend client.go Lock: an existing workspace whose advisory lock another session holds.
      expect(impatient.output).toContain('Error acquiring the state lock');
      expect(impatient.output).toContain('Workspace is already locked: default');

      const patient = started(second, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=300s']);
      await patient.waitForOutput(/Acquiring state lock/, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect({ waiting: patient.running, output: patient.output }).toMatchObject({ waiting: true });
      const confirmedAt = Date.now();
      held.type('yes\n');
      const heldResult = await held.done;
      expectExitStatus(heldResult, 0);
      expect(heldResult.output).toContain(`Apply complete! Resources: ${expectedResources.length} added, 0 changed, 0 destroyed.`);
      const patientResult = await patient.done;
      expectExitStatus(patientResult, 0);
      // It planned against the state the first apply wrote: nothing left to add.
      expect(patientResult.output).toContain('No changes.');
      expect(patientResult.output).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed.');
      expect(Date.now()).toBeGreaterThan(confirmedAt);

      // One workspace, one lineage, the secrets in it; both checkouts see the same state and nothing to do.
      const states = statesIn('proxmox_k3s_ha_lab');
      expect([...states.keys()]).toEqual(['default']);
      const after = states.get('default');
      expect(after!.lineage).toBe(before!.lineage);
      expect(after!.serial).toBeGreaterThan(before!.serial);
      expect(after!.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual(expectedResources);
      for (const stack of [first, second]) {
        expect(await stateList(stack)).toEqual(expectedResources);
        const pulled = await terraform(stack, ['state', 'pull']);
        expectExitStatus(pulled, 0);
        expect(JSON.parse(pulled.output)).toMatchObject({ serial: after!.serial, lineage: after!.lineage });
        expectExitStatus(await terraform(stack, ['plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock-timeout=30s']), 0);
      }
      // Every advisory lock was given back.
      expect(server!.sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).toBe('0');
      noSecretShown(held.output, impatient.output, patientResult.output);
    }, 600_000);

    test('two sites in one database: one schema each, each with its own resources, applied at the same time', async () => {
      // Seed prod and a second lab (the seeds without TLS keys, which need a tls provider); "lab-east" also shows the name made safe.
      const specs = [seedSpec('prod'), { ...seedSpec('lab'), name: 'lab-east' }];
      const stacks = synthStateStacks(join(work, 'two-sites'), specs.map((spec) => ({ spec, secrets: 'generated', backend: { type: 'pg' } })));
      const sites = [...stacks.entries()];
      for (const [, stack] of sites) {
        expectExitStatus(await terraform(stack, ['init', '-input=false', '-no-color']), 0);
      }
      // Both new at once: the pg backend's workspace-creation lock is one for the whole database, so one may wait.
      const results = await Promise.all(sites.map(([, stack]) => terraform(stack, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock-timeout=300s'], 300_000)));
      results.forEach((result) => expectExitStatus(result, 0));
      noSecretShown(...results.map((result) => result.output));

      const schemas = server!.sql("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'proxmox_k3s_ha_%' ORDER BY 1").split('\n');
      expect(schemas).toEqual(expect.arrayContaining(['proxmox_k3s_ha_lab_east', 'proxmox_k3s_ha_prod']));
      const lineages = new Set<string>();
      for (const [name, stack] of sites) {
        const expected = declaredResources(stack.json);
        expect(expected.length).toBeGreaterThan(0);
        const states = statesIn(`proxmox_k3s_ha_${name.replace('-', '_')}`);
        expect([...states.keys()]).toEqual(['default']);
        const state = states.get('default');
        lineages.add(state!.lineage);
        expect(state!.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual(expected);
        expect(state!.outputs.host_addresses.value).toEqual(Object.fromEntries(specs.find((spec) => spec.name === name)!.hosts.map((host) => [host.name, host.ip])));
        expect(await stateList(stack)).toEqual(expected);
      }
      expect(lineages.size).toBe(2);
    }, 600_000);

    test('an existing local state moves into PostgreSQL with terraform init -migrate-state (README: migrating)', async () => {
      const project = join(work, 'migrate');
      const spec = { ...seedSpec('lab'), name: 'lab-west' };
      const local = synthStateStacks(project, [{ spec, secrets: 'generated' }]).get('lab-west')!;
      expectExitStatus(await terraform(local, ['init', '-input=false', '-no-color']), 0);
      expectExitStatus(await terraform(local, ['apply', '-auto-approve', '-input=false', '-no-color']), 0);
      const localState = JSON.parse(readFileSync(join(project, 'terraform.lab-west.tfstate'), 'utf8')) as TfState;

      // cdktf synth rewrites the stack in place: .terraform/ still knows the local backend the state came from.
      const pg = synthStateStacks(project, [{ spec, secrets: 'generated', backend: { type: 'pg' } }], { replace: false }).get('lab-west')!;
      expect(pg.dir).toBe(local.dir);
      const migrate = await terraform(pg, ['init', '-migrate-state', '-force-copy', '-input=false', '-no-color']);
      expectExitStatus(migrate, 0);
      expect(migrate.output).toContain('Successfully configured the backend "pg"!');
      noSecretShown(migrate.output);

      // The resources as they were (the same generated secrets, not new ones); the new backend starts its own lineage.
      const migrated = statesIn('proxmox_k3s_ha_lab_west').get('default');
      expect(migrated!.resources.map((r) => `${r.type}.${r.name}`).sort()).toEqual(declaredResources(pg.json));
      expect(migrated!.resources).toEqual(localState.resources);
      const plan = await terraform(pg, ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
      expectExitStatus(plan, 0);
      expect(plan.output).toContain('No changes.');
    }, 300_000);
  }, { needsRoot: true });

