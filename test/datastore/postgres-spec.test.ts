// Site validation of the Patroni datastore's settings: the etcd witness (defaulted or given), Patroni's failure
// detection timing and strict synchronous mode. Every bad value is one `path: value — expected` problem, and all
// problems of a spec come back together in one ValidationError.
import { HostRole, SiteSpec, defineSite } from '../../constructs';
import { colocatedSite, pgHomelabSite, singleNodeSite } from './fixtures';
import { validationErrorOf } from '../support/validation-error';

/** The problems of an untyped `postgres` section on a site spec. */
const problemsOf = (spec: SiteSpec, postgres: unknown) => validationErrorOf({ ...spec, postgres: postgres as SiteSpec['postgres'] }).problems;

/** colocatedSite with a third datastore node: an odd number of etcd members on its own. */
const threeNodeSite: SiteSpec = {
  ...colocatedSite,
  hosts: [...colocatedSite.hosts, { name: 'db-3', ip: '198.18.0.43', vmId: 1043, proxmoxNode: 'pve2', roles: [HostRole.DATASTORE] }],
};

/** Two datastore nodes that are also the only K3s servers, and no load balancer: no host can be the witness. */
const noWitnessHostSite: SiteSpec = {
  ...colocatedSite,
  name: 'pg-no-witness',
  hosts: [
    { name: 'db-1', ip: '198.18.0.41', vmId: 1041, proxmoxNode: 'pve1', roles: [HostRole.DATASTORE, HostRole.K3S_SERVER] },
    { name: 'db-2', ip: '198.18.0.42', vmId: 1042, proxmoxNode: 'pve2', roles: [HostRole.DATASTORE, HostRole.K3S_SERVER] },
  ],
  apiEndpoint: {},
};

describe('postgres.witness: the default', () => {
  test('seed 000: the datastore nodes are the load balancers, so the first K3s server cp1 is the witness', () => {
    const plan = defineSite(pgHomelabSite);
    expect(plan.postgres!.witness).toEqual({ name: 'cp1', ip: '10.10.10.153' });
    expect(plan.postgres!.etcdMembers).toEqual([
      { name: 'pg-node-1', ip: '10.10.10.151' }, { name: 'pg-node-2', ip: '10.10.10.152' }, { name: 'cp1', ip: '10.10.10.153' },
    ]);
  });

  test('co-located servers and load balancers: the first load balancer that is not a datastore node', () => {
    const plan = defineSite(colocatedSite);
    expect(plan.postgres!.witness).toEqual({ name: 'server-1', ip: '198.18.0.11' });
    expect(plan.postgres!.etcdMembers.map((m) => m.name)).toEqual(['db-1', 'db-2', 'server-1']);
  });

  test('a load balancer is preferred to an earlier K3s server', () => {
    const plan = defineSite({
      ...colocatedSite,
      hosts: colocatedSite.hosts.map((host) => (host.name === 'server-1' ? { ...host, roles: [HostRole.K3S_SERVER] } : host)),
    });
    expect(plan.postgres!.witness?.name).toBe('server-2');
  });

  test('one datastore node: no witness, a one-member etcd', () => {
    const plan = defineSite(singleNodeSite);
    expect(plan.postgres!.witness).toBeUndefined();
    expect(plan.postgres!.etcdMembers).toEqual([{ name: 'db-1', ip: '198.18.0.41' }]);
  });

  test('three datastore nodes: no witness, the three nodes are the etcd members', () => {
    const plan = defineSite(threeNodeSite);
    expect(plan.postgres!.witness).toBeUndefined();
    expect(plan.postgres!.etcdMembers.map((m) => m.name)).toEqual(['db-1', 'db-2', 'db-3']);
  });

  test('an explicit witness is taken', () => {
    const plan = defineSite({ ...colocatedSite, postgres: { ...colocatedSite.postgres, witness: 'server-3' } });
    expect(plan.postgres!.witness).toEqual({ name: 'server-3', ip: '198.18.0.13' });
    expect(plan.postgres!.etcdMembers.map((m) => m.name)).toEqual(['db-1', 'db-2', 'server-3']);
    expect(defineSite({ ...pgHomelabSite, postgres: { witness: 'cp3' } }).postgres!.witness?.name).toBe('cp3');
  });
});

describe('postgres.failover and synchronousModeStrict: defaults and accepted values', () => {
  test('defaults: ttl 8 s, loop 2 s, retry 3 s; not strict', () => {
    const plan = defineSite(pgHomelabSite);
    expect(plan.postgres!.failover).toEqual({ ttlSeconds: 8, loopWaitSeconds: 2, retryTimeoutSeconds: 3 });
    expect(plan.postgres!.synchronousModeStrict).toBe(false);
  });

  test('given values replace the defaults key by key', () => {
    expect(defineSite({ ...pgHomelabSite, postgres: { failover: { ttlSeconds: 30 } } }).postgres!.failover)
      .toEqual({ ttlSeconds: 30, loopWaitSeconds: 2, retryTimeoutSeconds: 3 });
    expect(defineSite({ ...pgHomelabSite, postgres: { failover: { ttlSeconds: 30, loopWaitSeconds: 10, retryTimeoutSeconds: 10 } } }).postgres!.failover)
      .toEqual({ ttlSeconds: 30, loopWaitSeconds: 10, retryTimeoutSeconds: 10 });
  });

  test('loop + 2 × retry = ttl is accepted (the boundary)', () => {
    expect(defineSite({ ...pgHomelabSite, postgres: { failover: { ttlSeconds: 12, loopWaitSeconds: 4, retryTimeoutSeconds: 4 } } }).postgres!.failover.ttlSeconds).toBe(12);
  });

  test('synchronousModeStrict: true is accepted with synchronous commit', () => {
    expect(defineSite({ ...pgHomelabSite, postgres: { synchronousModeStrict: true } }).postgres!.synchronousModeStrict).toBe(true);
  });
});

describe('postgres validation errors', () => {
  test('a witness that is not a host of the site', () => {
    expect(problemsOf(pgHomelabSite, { witness: 'nope' })).toEqual([{ path: 'postgres.witness', value: 'nope', expected: 'the name of a host of the site' }]);
    expect(problemsOf(pgHomelabSite, { witness: 42 })).toEqual([{ path: 'postgres.witness', value: 42, expected: 'the name of a host of the site' }]);
  });

  test('a witness that is a datastore node', () => {
    expect(problemsOf(pgHomelabSite, { witness: 'pg-node-2' })).toEqual([{
      path: 'postgres.witness', value: 'pg-node-2', expected: 'a host that is not a datastore node (the witness is the third etcd member beside them)',
    }]);
  });

  test('a witness beside an odd number of datastore nodes', () => {
    expect(problemsOf(singleNodeSite, { witness: 'server-1' })).toEqual([{
      path: 'postgres.witness', value: 'server-1', expected: 'no witness: 1 datastore nodes are an odd number of etcd members already',
    }]);
    expect(problemsOf(threeNodeSite, { ...colocatedSite.postgres, witness: 'server-2' }).map((p) => [p.path, p.value])).toEqual([['postgres.witness', 'server-2']]);
  });

  const noWitnessProblem = {
    path: 'postgres.witness',
    value: undefined,
    expected: 'a host for the third etcd member: 2 datastore nodes alone lose the etcd quorum with one failure, and no load balancer or K3s server outside them can host it',
  };

  // (Such a site has no load balancer either, which is a problem of its own.)
  const witnessProblems = (postgres: Parameters<typeof problemsOf>[1]) => problemsOf(noWitnessHostSite, postgres).filter((p) => p.path === 'postgres.witness');

  test('two datastore nodes and no host that can be the witness (with postgres settings)', () => {
    expect(witnessProblems({})).toEqual([noWitnessProblem]);
  });

  test('two datastore nodes and no host that can be the witness (without a postgres section: every setting defaulted)', () => {
    expect(witnessProblems(undefined)).toEqual([noWitnessProblem]);
  });

  test('failover timing that lets a primary outlive its leader key: loop + 2 × retry > ttl', () => {
    const failover = { ttlSeconds: 10, loopWaitSeconds: 4, retryTimeoutSeconds: 4 };
    expect(problemsOf(pgHomelabSite, { failover })).toEqual([{
      path: 'postgres.failover',
      value: failover,
      expected: 'loopWaitSeconds + 2 × retryTimeoutSeconds ≤ ttlSeconds (4 + 2 × 4 > 10): otherwise a primary may still think it leads after its key expired',
    }]);
    // With the defaults for the keys not given (loop 2, retry 3): 2 + 6 > 7.
    expect(problemsOf(pgHomelabSite, { failover: { ttlSeconds: 7 } })[0].expected).toContain('(2 + 2 × 3 > 7)');
  });

  test.each([
    ['ttlSeconds', 4, 'whole seconds from 5 to 3600'],
    ['ttlSeconds', 3601, 'whole seconds from 5 to 3600'],
    ['ttlSeconds', '10', 'whole seconds from 5 to 3600'],
    ['loopWaitSeconds', 0, 'whole seconds from 1 to 600'],
    ['loopWaitSeconds', 1.5, 'whole seconds from 1 to 600'],
    ['retryTimeoutSeconds', 2, 'whole seconds from 3 to 600'],
    ['retryTimeoutSeconds', 601, 'whole seconds from 3 to 600'],
  ])('postgres.failover.%s: %j is out of range', (key, value, expected) => {
    // Out-of-range values are reported alone, without a timing problem built on them.
    expect(problemsOf(pgHomelabSite, { failover: { ttlSeconds: 3600, [key]: value } })).toEqual([{ path: `postgres.failover.${key}`, value, expected }]);
  });

  test('postgres.failover must be an object and knows only its three keys', () => {
    expect(problemsOf(pgHomelabSite, { failover: 10 })).toEqual([{ path: 'postgres.failover', value: 10, expected: 'an object' }]);
    expect(problemsOf(pgHomelabSite, { failover: { ttl: 10, loopWait: 2 } })).toEqual([
      { path: 'postgres.failover.ttl', value: 10, expected: 'no such key here; known keys: ttlSeconds, loopWaitSeconds, retryTimeoutSeconds' },
      { path: 'postgres.failover.loopWait', value: 2, expected: 'no such key here; known keys: ttlSeconds, loopWaitSeconds, retryTimeoutSeconds' },
    ]);
  });

  test('synchronousModeStrict without synchronous commit, or not a boolean', () => {
    expect(problemsOf(pgHomelabSite, { synchronousCommit: false, synchronousModeStrict: true })).toEqual([{
      path: 'postgres.synchronousModeStrict', value: true, expected: 'false while postgres.synchronousCommit is false (strict mode needs synchronous mode)',
    }]);
    expect(problemsOf(pgHomelabSite, { synchronousModeStrict: 'yes' })).toEqual([{ path: 'postgres.synchronousModeStrict', value: 'yes', expected: 'true or false' }]);
  });

  test('an unknown key under postgres names the new keys among the known ones', () => {
    expect(problemsOf(pgHomelabSite, { witnes: 'cp1' })).toEqual([{
      path: 'postgres.witnes',
      value: 'cp1',
      expected: 'no such key here; known keys: version, port, writerPort, synchronousCommit, synchronousModeStrict, database, user, tls, witness, failover',
    }]);
  });

  test('every problem at once, each with its path and value, in one error', () => {
    const error = validationErrorOf({
      ...pgHomelabSite,
      postgres: { witness: 'pg-node-1', synchronousCommit: false, synchronousModeStrict: true, failover: { ttlSeconds: 5, loopWaitSeconds: 0 } },
    });
    expect(error.problems.map((p) => [p.path, p.value])).toEqual(expect.arrayContaining([
      ['postgres.witness', 'pg-node-1'],
      ['postgres.synchronousModeStrict', true],
      ['postgres.failover.loopWaitSeconds', 0],
    ]));
    expect(error.problems).toHaveLength(3);
    expect(error.message.split('\n')[0]).toBe('site "pg-homelab" has 3 problems:');
    expect(error.message).toContain('postgres.witness: "pg-node-1"');
  });
});

// The datastore's etcd quorum per Proxmox node is one cause of the node-loss warning (constructs/site/node-loss.ts,
// test/site/node-loss.test.ts); it replaced the "every etcd member on one node" warning, which missed 2 of 3 on a node.
describe('warning: losing a Proxmox node stops the datastore', () => {
  const nodeLoss = (spec: SiteSpec) => defineSite(spec).warnings.filter((w) => w.message.startsWith('losing Proxmox node')).map((w) => w.message);
  const onOneNode: SiteSpec = { ...pgHomelabSite, hosts: pgHomelabSite.hosts.map((host) => ({ ...host, proxmoxNode: 'pve1' })) };

  test('seed 000 on one Proxmox node warns that losing it stops the datastore (its etcd keeps no member) and the API', () => {
    const [warning, ...others] = nodeLoss(onOneNode);
    expect(others).toEqual([]);
    expect(warning).toMatch(/^losing Proxmox node "pve1" stops the datastore and the API: /);
    expect(warning).toContain('the datastore\'s etcd keeps 0 of 3 members, 2 needed for quorum, so Patroni demotes the primary and elects no leader');
  });

  test('2 of the 3 members on one node is enough to stop it: the witness beside a datastore node, or both datastore nodes together', () => {
    expect(nodeLoss(pgHomelabSite)).toEqual([expect.stringContaining('losing Proxmox node "pve1" stops the datastore and the API: the datastore\'s etcd keeps 1 of 3 members')]);
    // Datastore nodes on pve1, the witness on pve2 (given explicitly): pve1 still holds 2 of 3.
    const datastoresTogether: SiteSpec = {
      ...pgHomelabSite,
      hosts: pgHomelabSite.hosts.map((host) => ({ ...host, proxmoxNode: host.name === 'cp2' ? 'pve2' : 'pve1' })),
      postgres: { witness: 'cp2' },
    };
    expect(nodeLoss(datastoresTogether)).toEqual([expect.stringContaining('(on it: pg-node-1, pg-node-2)')]);
    // One member per node on three nodes: no node holds a majority.
    const spread: SiteSpec = {
      ...pgHomelabSite,
      proxmox: { ...pgHomelabSite.proxmox, nodes: ['pve1', 'pve2', 'pve3'] },
      hosts: pgHomelabSite.hosts.map((host) => ({ ...host, proxmoxNode: host.name === 'cp3' ? 'pve3' : host.proxmoxNode })),
      postgres: { witness: 'cp3' },
    };
    expect(nodeLoss(spread)).toEqual([]);
  });

  test('a single datastore node has one etcd member: its loss is a single host\'s, no node warning', () => {
    expect(nodeLoss(singleNodeSite)).toEqual([]);
  });
});
