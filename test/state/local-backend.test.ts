import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { StandinHome, createStandinHome, declaredResources } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { SynthesizedStack, seedSpec, synthStateStacks, variableValues } from './state-stacks';
import { expectExitStatus, runTerraform, terraformEnv } from './terraform-process';

/**
 * The default local state with the real Terraform CLI, laid out as cdktf does (Terraform runs in
 * cdktf.out/stacks/<site>/): the state file lands beside cdktf.out, survives a synthesis that replaces cdktf.out
 * wholesale (npm run synth), and travels with the project folder to another path.
 */
describeWithTools(['terraform'], 'the default local state with the real Terraform CLI', () => {
  let work: string;
  let standin: StandinHome;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'state-local-test-'));
    standin = createStandinHome();
  });
  afterAll(() => {
    standin?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const terraform = (stack: SynthesizedStack, args: readonly string[]) => runTerraform(stack.dir, args,
    terraformEnv(standin.env.TF_CLI_CONFIG_FILE, { ...standin.env, ...variableValues(stack.json) }));
  const synthLab = (projectDir: string) => synthStateStacks(projectDir, [{ spec: seedSpec('lab'), secrets: 'generated' }]).get('lab')!;

  test('applied, re-synthesized, moved: the state beside cdktf.out is found every time (plan: no changes)', async () => {
    const project = join(work, 'checkout');
    let stack = synthLab(project);
    expectExitStatus(await terraform(stack, ['init', '-input=false', '-no-color']), 0);
    expectExitStatus(await terraform(stack, ['apply', '-auto-approve', '-input=false', '-no-color']), 0);
    const stateFile = join(project, 'terraform.lab.tfstate');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    const expected = declaredResources(stack.json);
    expect(expected.length).toBeGreaterThan(0);
    expect(state.resources.map((r: { type: string; name: string }) => `${r.type}.${r.name}`).sort()).toEqual(expected);
    expect(existsSync(join(stack.dir, 'terraform.tfstate'))).toBe(false);

    // npm run synth replaces cdktf.out wholesale (its .terraform too): the state is outside and stays.
    stack = synthLab(project);
    expect(existsSync(stateFile)).toBe(true);
    expectExitStatus(await terraform(stack, ['init', '-input=false', '-no-color']), 0);
    expectExitStatus(await terraform(stack, ['plan', '-detailed-exitcode', '-input=false', '-no-color']), 0);

    // Another machine or checkout: the project folder at another path.
    const moved = join(work, 'elsewhere', 'deeper', 'checkout');
    mkdirSync(dirname(moved), { recursive: true });
    renameSync(project, moved);
    stack = synthLab(moved);
    expectExitStatus(await terraform(stack, ['init', '-input=false', '-no-color']), 0);
    const plan = await terraform(stack, ['plan', '-detailed-exitcode', '-input=false', '-no-color']);
    expectExitStatus(plan, 0);
    expect(plan.output).toContain('No changes.');
    const list = await terraform(stack, ['state', 'list', '-no-color']);
    expect(list.output.trim().split('\n').sort()).toEqual(expected);
  }, 300_000);
});
