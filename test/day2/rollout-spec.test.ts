import { SiteSpec, ValidationError, defineSite } from '../../constructs';
import prod from '../../sites/prod';

/** The problems defineSite reports for `spec`, as `path: value — expected` lines. */
function problemsOf(spec: SiteSpec): string[] {
  try {
    defineSite(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems.map((p) => `${p.path}: ${JSON.stringify(p.value)}`);
  }
  throw new Error('defineSite accepted the site');
}

describe('the day-2 fields of the site model: defaults, and every bad value named at once', () => {
  test('defaults: no rebuild, not decommissioned, agents one at a time, unsafe removals rejected, direct SSH', () => {
    const plan = defineSite(prod);
    expect(plan.hosts.map((h) => [h.generation, h.decommission, h.sshHostKey])).toEqual(plan.hosts.map(() => [0, false, undefined]));
    expect(plan.rollout).toEqual({ agentConcurrency: 1, allowUnsafeServerRemoval: false });
  });

  test('a bastion is parsed; a pinned host key is kept', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKtest root@k3s-prod-cp-01';
    const plan = defineSite({ ...prod, rollout: { bastion: 'ops@jump.example.net:2222' }, hosts: prod.hosts.map((h, i) => (i === 0 ? { ...h, sshHostKey: key } : h)) });
    expect(plan.rollout.bastion).toEqual({ host: 'jump.example.net', user: 'ops', port: 2222 });
    expect(plan.hosts[0].sshHostKey).toBe(key);
  });

  test('bad values are all reported together, each with its path', () => {
    const spec = {
      ...prod,
      rollout: { agentConcurrency: 0, allowUnsafeServerRemoval: 'yes', bastion: 'a b', surprise: 1 },
      hosts: prod.hosts.map((h, i) => (i === 0 ? { ...h, generation: -1, sshHostKey: 'ssh-ed25519', decommission: 'soon' } : h)),
    } as unknown as SiteSpec;
    expect(problemsOf(spec).sort()).toEqual([
      'hosts[k3s-prod-lb-01].decommission: "soon"',
      'hosts[k3s-prod-lb-01].generation: -1',
      'hosts[k3s-prod-lb-01].sshHostKey: "ssh-ed25519"',
      'rollout.agentConcurrency: 0',
      'rollout.allowUnsafeServerRemoval: "yes"',
      'rollout.bastion: "a b"',
      'rollout.surprise: 1',
    ]);
  });
});
