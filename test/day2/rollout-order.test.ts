import { defineSite } from '../../constructs';
import { RolloutStage, rolloutOrder } from '../../constructs/tf';
import homelab from '../../sites/homelab';
import lab from '../../sites/lab';
import prod from '../../sites/prod';
import { resourcesByPath, synthSite } from '../support/synth';

const chain = (steps: ReturnType<typeof rolloutOrder>) => steps.map((step) => `${step.host}<${step.after.join('+')}`);

describe('rollout order: stage by stage, one host at a time, the VIP holder last', () => {
  test('prod: load balancers from the lowest VRRP priority up (the VIP holder last), then the servers in site order', () => {
    expect(chain(rolloutOrder(defineSite(prod)))).toEqual([
      'k3s-prod-lb-03<', 'k3s-prod-lb-02<k3s-prod-lb-03', 'k3s-prod-lb-01<k3s-prod-lb-02',
      'k3s-prod-cp-01<k3s-prod-lb-01', 'k3s-prod-cp-02<k3s-prod-cp-01', 'k3s-prod-cp-03<k3s-prod-cp-02',
    ]);
  });

  test('lab: servers that also balance load converge as servers; agents that also serve DNS wait for every server', () => {
    const steps = rolloutOrder(defineSite(lab));
    expect(steps.map((s) => s.stage)).toEqual([RolloutStage.CONTROL_PLANE, RolloutStage.CONTROL_PLANE, RolloutStage.CONTROL_PLANE, RolloutStage.WORKER, RolloutStage.WORKER]);
    expect(chain(steps)).toEqual([
      'lx-k3s-server-01<', 'lx-k3s-server-02<lx-k3s-server-01', 'lx-k3s-server-03<lx-k3s-server-02',
      'lx-k3s-agent-01<lx-k3s-server-03', 'lx-k3s-agent-02<lx-k3s-agent-01',
    ]);
  });

  test('agent concurrency 2: two chains of agents, each starting after the last server', () => {
    const steps = rolloutOrder(defineSite({ ...lab, rollout: { agentConcurrency: 2 } }));
    expect(chain(steps).slice(3)).toEqual(['lx-k3s-agent-01<lx-k3s-server-03', 'lx-k3s-agent-02<lx-k3s-server-03']);
  });

  test('homelab: the datastore primary before its replica (a replica is cloned from it), load balancers on them included', () => {
    const plan = defineSite(homelab);
    const steps = rolloutOrder(plan);
    const datastore = steps.filter((s) => s.stage === RolloutStage.DATASTORE || plan.postgres!.nodes.some((n) => n.name === s.host)).map((s) => s.host);
    expect(datastore).toEqual([plan.postgres!.nodes[0].name, plan.postgres!.nodes[1].name]);
    expect(steps.every((step, i) => i === 0 || step.after.length === 1)).toBe(true);
  });

  test('the synthesized converge steps depend on the machine and on the previous step, in that order', () => {
    const { json } = synthSite(defineSite(prod));
    const converge = resourcesByPath(json, 'terraform_data');
    const lb01 = converge['prod/k3s-prod-lb-01/Converge/Resource'];
    expect(lb01.depends_on).toEqual([expect.stringMatching(/^proxmox_virtual_environment_container\.k3s-prod-lb-01_/), expect.stringMatching(/^terraform_data\.k3s-prod-lb-02_Converge_/)]);
    expect(lb01.input.position).toBe(3);
    expect(converge['prod/k3s-prod-lb-03/Converge/Resource'].depends_on).toHaveLength(1);
  });
});
