// Failures the site fuzz (test/fuzz/site-fuzz.test.ts) found, replayed as it printed them: each one used to
// crash SiteStack, Terraform or a machine for a site that validated; now each is refused, with the path to fix.
// A new failure printed by the fuzz is pasted here as it comes (`expectSiteHolds` runs the same checks).
import { expectSiteHolds } from '../fuzz/regression';
import { Mutation } from '../fuzz/mutations';

/** Replays a fuzz case and returns the paths of the problems it is refused with (failing if it validates). */
function refusedAt(seed: string, mutations: readonly Mutation[]): string[] {
  const outcome = expectSiteHolds(seed, mutations);
  if (outcome.kind !== 'rejected') {
    throw new Error(`${seed}: the site validated`);
  }
  return outcome.error.problems.map((problem) => problem.path);
}

// FUZZ_SEED=20261207 FUZZ_RUNS=300: SiteStack failed for a site that validated: Error: There is already a Construct with name 'proxmox' in SiteStack [homelab]
test('fuzz: a host named like the Proxmox provider construct', () => {
  expect(refusedAt('homelab', [
    { op: 'set', path: ['hosts', 7, 'name'], value: { kind: 'json', value: 'proxmox' } },
  ])).toEqual(['hosts[proxmox].name']);
});

// explore seed 2: SiteStack failed for a site that validated: Error: There is already a Construct with name 'random' in SiteStack [kubeadm-multi]
test('fuzz: a host named like the random provider construct', () => {
  expect(refusedAt('kubeadm-multi', [
    { op: 'set', path: ['hosts', 5, 'name'], value: { kind: 'json', value: 'random' } },
  ])).toEqual(['hosts[random].name']);
});

// explore seed 1: SiteStack failed for a site that validated: CloudConfigConflictError: pg-node-1: tcp port 6443 is claimed by role "load-balancer" (haproxy kubernetes api frontend) and by role "load-balancer"
test('fuzz: the PostgreSQL writer endpoint on the API frontend\'s port', () => {
  expect(refusedAt('homelab', [
    { op: 'set', path: ['postgres', 'writerPort'], value: { kind: 'json', value: 6443 } },
  ])).toEqual(['postgres.writerPort']);
});

// terraform validate (stand-ins): Invalid resource name "0abc_Converge_E8EB3BBE": A name must start with a letter or underscore
test('fuzz: a host name starting with a digit', () => {
  expect(refusedAt('lab', [
    { op: 'set', path: ['hosts', 3, 'name'], value: { kind: 'json', value: '0abc' } },
  ])).toEqual(['hosts[0abc].name']);
});

// The fuzz's hostile texts in the one free-text field every host receives (an admin key's comment): accepted where
// an SSH key line allows them, then every host's files pass cloud-init schema, shellcheck, haproxy -c and
// named-checkzone, and no text became an interpolation.
test('fuzz: hostile SSH key comments reach every host as text', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
  const comments = ['${var.proxmox_api_token}', '%{if true}fuzzcanary%{endif}', '$${fuzzcanary}', '${', '$', '\'"`\\', '$(touch /tmp/fuzzcanary)', '{{ x }}', 'ünïcödé 🚀', '# comment'];
  for (const seed of ['prod', 'lab']) {
    const outcome = expectSiteHolds(seed, [{ op: 'set', path: ['access', 'sshAuthorizedKeys'], value: { kind: 'json', value: comments.map((c) => `${key} ${c}`) } }]);
    expect(outcome.kind).toBe('accepted');
  }
}, 120_000);
