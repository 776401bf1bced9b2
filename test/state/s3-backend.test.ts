import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { StateBackendOptions } from '../../constructs/tf';
import { StandinHome, createStandinHome } from '../support/terraform-cli';
import { describeWithTools } from '../support/tools';
import { S3Recorder } from './s3-recorder';
import { SynthesizedStack, seedSpec, synthStateStacks, variableValues } from './state-stacks';
import { expectExitStatus, runTerraform, terraformEnv } from './terraform-process';

/** Test credentials, given to Terraform only through the environment. */
const ACCESS_KEY_ID = 'AKIASTATETEST0NLY';
const SECRET_ACCESS_KEY = 'StateTestSecret0nly/NotARealKey+abcdefgh';

/**
 * The s3 backend configuration of the generated stacks, checked by the real Terraform CLI. No S3 server is
 * available here: `init -backend=false` + `validate` take the configuration, and an init against a loopback
 * recorder shows that Terraform accepted the backend block (its schema and validation come first) and what it
 * then sends: path-style requests with the credentials of the environment.
 */
describeWithTools(['terraform'], 'the s3 backend configuration with the real Terraform CLI (no S3 server: a loopback recorder)', () => {
  let work: string;
  let standin: StandinHome;
  let recorder: S3Recorder;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'state-s3-test-'));
    standin = createStandinHome();
    recorder = await S3Recorder.start();
  });
  afterAll(async () => {
    await recorder?.stop();
    standin?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  const synthLab = (project: string, backend: StateBackendOptions) => synthStateStacks(join(work, project), [{ spec: seedSpec('lab'), secrets: 'generated', backend }]).get('lab')!;
  /** The run's environment: stand-in providers, the stack's variables, AWS credentials only as given here. */
  const terraform = (stack: SynthesizedStack, args: readonly string[], aws: Record<string, string> = {}) => {
    const env = Object.fromEntries(Object.entries(terraformEnv(standin.env.TF_CLI_CONFIG_FILE, { ...standin.env, ...variableValues(stack.json) }))
      .filter(([key]) => !key.startsWith('AWS_')));
    return runTerraform(stack.dir, args, { ...env, ...aws }, 120_000);
  };

  test.each<[string, StateBackendOptions]>([
    ['AWS', { type: 's3', bucket: 'team-tf-state', region: 'eu-central-1' }],
    ['an S3-compatible server', { type: 's3', bucket: 'tf-state', region: 'us-east-1', endpoint: 'https://s3.lab.internal:9000', usePathStyle: true, encrypt: false }],
  ])('%s: init -backend=false and validate accept the stack; no credential in it', async (name, backend) => {
    const stack = synthLab(`validate-${name.replace(/\W+/g, '-')}`, backend);
    expect(Object.keys(stack.json.terraform.backend)).toEqual(['s3']);
    expect(stack.json.terraform.backend.s3.use_lockfile).toBe(true);
    const text = readFileSync(join(stack.dir, 'cdk.tf.json'), 'utf8');
    expect(text).not.toMatch(/access_key|secret_key|"token"|"profile"|shared_credentials|assume_role|AKIA/);
    expectExitStatus(await terraform(stack, ['init', '-backend=false', '-input=false', '-no-color']), 0);
    const validate = await terraform(stack, ['validate', '-no-color']);
    expectExitStatus(validate, 0);
    expect(validate.output).toContain('Success! The configuration is valid.');
  }, 180_000);

  test('init against a loopback endpoint: the backend is configured, requests are path-style, signed with the environment\'s key', async () => {
    const stack = synthLab('recorded', { type: 's3', bucket: 'tf-state', region: 'us-east-1', endpoint: recorder.url, usePathStyle: true, encrypt: false });
    const init = await terraform(stack, ['init', '-input=false', '-no-color'], { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY });
    expect(init.status).toBe(1);
    // Terraform took the backend block (schema and validation come first), then the server refused the state read.
    expect(init.output).toContain('Successfully configured the backend "s3"!');
    expect(init.output).toMatch(/StatusCode: 403/);
    expect(init.output).not.toContain(SECRET_ACCESS_KEY);
    expect(recorder.requests.length).toBeGreaterThan(0);
    // The workspace listing (objects under "env:/") and the default workspace's state object, the bucket in the path.
    expect(recorder.requests.map((request) => `${request.method} ${decodeURIComponent(request.url)}`)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^GET \/tf-state\?list-type=2&.*prefix=env:\/$/),
      'HEAD /tf-state/proxmox-k3s-ha/lab/terraform.tfstate',
    ]));
    for (const request of recorder.requests) {
      expect(String(request.headers.authorization)).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/us-east-1/s3/aws4_request`));
    }
    expect(readFileSync(join(stack.dir, 'cdk.tf.json'), 'utf8')).not.toContain(ACCESS_KEY_ID);
  }, 180_000);

  test('the same init with an argument the s3 backend does not know fails before any request (the check above can fail)', async () => {
    const stack = synthLab('broken', { type: 's3', bucket: 'tf-state', region: 'us-east-1', endpoint: recorder.url, usePathStyle: true, encrypt: false });
    const json = { ...stack.json, terraform: { ...stack.json.terraform, backend: { s3: { ...stack.json.terraform.backend.s3, lock_table_name: 'locks' } } } };
    writeFileSync(join(stack.dir, 'cdk.tf.json'), JSON.stringify(json));
    const before = recorder.requests.length;
    const init = await terraform(stack, ['init', '-input=false', '-no-color'], { AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY });
    expect(init.status).toBe(1);
    expect(init.output).toContain('No argument or block type is named "lock_table_name"');
    expect(recorder.requests.length).toBe(before);
  }, 180_000);
});
