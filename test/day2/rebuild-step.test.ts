import { execFileSync } from 'child_process';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { LifecycleScript } from '../../constructs/tf/lifecycle/lifecycle-scripts';
import { RebuildStep, RebuildStepProps } from '../../constructs/tf/lifecycle/rebuild-step';

// The step both rebuild rejoins share (NodeRejoinCleanup, DatastoreMemberRejoin): its environment reaches the script
// as given, whatever characters the values hold, and its triggers name the rebuilt host under the caller's key.

class ProbeStep extends RebuildStep {
  constructor(scope: Construct, id: string, props: RebuildStepProps) {
    super(scope, id, props);
  }
}

const ENVIRONMENT = {
  PKH_PLAIN: 'https://10.0.0.1:2379',
  PKH_SPACES: '--cacert /a b.crt --key /c.key',
  PKH_EMPTY: '',
  PKH_QUOTE: "it's $HOME `x`",
};

function synthStep(user: string) {
  const stack = new TerraformStack(Testing.app(), 'probe');
  new ProbeStep(stack, 'pg-2-Probe', {
    rebuilt: { key: 'member', name: 'pg-2', generation: 3 },
    via: { host: '10.0.0.1', user, privateKey: '${var.key}' },
    waitsFor: [],
    script: LifecycleScript.DATASTORE_ETCD_REJOIN,
    environment: ENVIRONMENT,
    args: ['pg-2', "a b'c"],
  });
  const [resource] = Object.values(JSON.parse(Testing.synth(stack)).resource.terraform_data) as { triggers_replace: unknown; provisioner: { 'remote-exec': { inline: string[] } }[] }[];
  return { resource, command: resource.provisioner[0]['remote-exec'].inline[0] };
}

describe('a rebuild step', () => {
  test('is replaced with the rebuilt host\'s generation, under the key the caller names it by', () => {
    expect(synthStep('root').resource.triggers_replace).toEqual({ member: 'pg-2', generation: 3 });
  });

  test('runs with sudo only for a non-root user, names the script after its file and quotes each argument', () => {
    expect(synthStep('root').command).toMatch(/^env PKH_PLAIN=https:\/\/10\.0\.0\.1:2379 /);
    const { command } = synthStep('admin');
    expect(command).toMatch(/^sudo env /);
    expect(command).toMatch(/ datastore-etcd-rejoin 'pg-2' 'a b'\\''c'$/);
  });

  test('hands every environment value to the script unchanged (checked by a real sh)', () => {
    const { command } = synthStep('root');
    const assignments = /^env (.*?) sh -eu -c /.exec(command)![1];
    const printed = execFileSync('sh', ['-c', `env -i ${assignments} sh -c 'for v in PKH_PLAIN PKH_SPACES PKH_EMPTY PKH_QUOTE; do eval "printf \\"%s|\\" \\"\\$$v\\""; done'`], { encoding: 'utf8', timeout: 10_000 });
    expect(printed).toBe(`${Object.values(ENVIRONMENT).join('|')}|`);
  });
});
