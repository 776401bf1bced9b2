// The classes of input the site fuzz and issue 21 found, each closed by a validation rule with a path: values a
// TypeScript site file can hold that JSON cannot (no crash, a problem), cross-field rules the constructs rely on
// (refused at defineSite, never a SiteStack error or a failure on the machine), paths that name the right host and
// cascades reported once, and the warnings for what is legal but probably wrong.
import { Problem, SitePlan, SiteSpec, ValidationError, defineSite, defineSites } from '../../constructs';
import { formatValue } from '../../constructs/core';
import { SITE_SPECS } from '../../sites';
import { snapshotScheduleProblem } from '../../constructs/site/validate/cron';
import { validationErrorOf } from '../support/validation-error';

type Draft = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A deep copy of seed `name` with `mutate` applied. */
function seed(name: string, mutate: (spec: Draft) => void = () => undefined): SiteSpec {
  const spec = structuredClone(SITE_SPECS.find((s) => s.name === name)!) as Draft;
  mutate(spec);
  return spec;
}

/** The problems defineSite reports (failing when it accepts the site or throws anything else). */
function problemsOf(spec: SiteSpec): readonly Problem[] {
  return validationErrorOf(spec).problems;
}

/** `path: expected` of every problem, with the value rendered as in the message. */
/** The problems defineSites reports for a list of sites, as `path: expected` (failing when it accepts them). */
function sitesProblems(specs: SiteSpec[]): string[] {
  let thrown: unknown;
  try {
    defineSites(specs);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  return (thrown as ValidationError).problems.map((p) => `${p.path}: ${p.expected}`);
}

const lines = (spec: SiteSpec) => problemsOf(spec).map((p) => `${p.path}: ${formatValue(p.value)} — ${p.expected}`);

// ---------------------------------------------------------------------------------------------------------------
// Values JSON cannot hold: a problem each, never a TypeError
// ---------------------------------------------------------------------------------------------------------------

describe('values a TypeScript site file can hold and JSON cannot', () => {
  test('a BigInt VM id is a problem at the host\'s path, with its value', () => {
    expect(lines(seed('lab', (s) => {
      s.hosts[3].vmId = BigInt(121);
    }))).toEqual(['hosts[lx-k3s-agent-01].vmId: "121n" — a number (a BigInt such as 121n is no site data: write 121)']);
  });

  test('a cycle is a problem at the value that refers back, and nothing below it is reported again', () => {
    expect(lines(seed('lab', (s) => {
      s.hosts[0].size = s.hosts;
    }))).toEqual(['hosts[lx-k3s-server-01].size: "[cycle]" — a tree of plain values (this refers back to hosts)']);
  });

  test.each([
    ['hosts', (s: Draft) => delete s.hosts[1], 'hosts[1]'],
    ['proxmox.nodes', (s: Draft) => delete s.proxmox.nodes[1], 'proxmox.nodes[1]'],
    ['dns.forwarders', (s: Draft) => {
      s.dns.forwarders = ['192.168.168.1', '9.9.9.9'];
      delete s.dns.forwarders[0];
    }, 'dns.forwarders[0]'],
  ])('a hole in %s ([a, , b]) is reported at the slot, once', (_, mutate, path) => {
    const problems = problemsOf(seed('lab', mutate));
    expect(problems.filter((p) => p.path === path)).toEqual([{ path, value: undefined, expected: 'a value: the list has an empty slot here (a stray comma?)' }]);
    // Nothing else is reported about the empty slot, nor about what was placed on a node listed in it.
    expect(problems.filter((p) => p.path.startsWith(path) && p.path !== path)).toEqual([]);
  });

  test('the hosts around a hole keep their paths: the host after it is still named by its name', () => {
    const problems = problemsOf(seed('lab', (s) => {
      delete s.hosts[1];
      s.hosts[4].roles = ['minion'];
    }));
    expect(problems.map((p) => p.path)).toEqual(['hosts[1]', 'hosts[lx-k3s-agent-02].roles[0]']);
  });

  test.each([
    ['a Symbol', () => Symbol('x'), 'Symbol(x)', 'plain data (a Symbol is no site data)'],
    ['a function', () => () => 'x', '[function]', 'plain data (a function is no site data)'],
    ['a Date', () => new Date(0), '[a Date]', 'a plain object or list (a Date is no site data)'],
    ['a Map', () => new Map(), '[a Map]', 'a plain object or list (a Map is no site data)'],
  ])('%s is a problem with a printable value', (_, make, value, expected) => {
    expect(problemsOf(seed('lab', (s) => {
      s.apiEndpoint.port = make();
    }))).toEqual([{ path: 'apiEndpoint.port', value, expected }]);
  });

  test('a getter that throws and a Proxy whose traps throw are problems, not crashes', () => {
    const problems = problemsOf(seed('lab', (s) => {
      Object.defineProperty(s.network, 'gateway', { enumerable: true, get: () => { throw new Error('no gateway today'); } });
      s.apiEndpoint = new Proxy({}, { ownKeys: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    }));
    expect(problems).toEqual([
      { path: 'network.gateway', value: undefined, expected: 'a readable value (reading it threw: no gateway today)' },
      { path: 'apiEndpoint', value: undefined, expected: 'a readable value (reading it threw: trap)' },
    ]);
  });

  test('a Proxy that reads through works like the object itself', () => {
    const spec = seed('lab', (s) => {
      s.network = new Proxy(s.network, {});
    });
    expect(defineSite(spec).network.cidr).toBe('192.168.168.0/24');
  });

  test('a getter is read once: the plan is built from the value that was validated', () => {
    let reads = 0;
    const spec = seed('lab', (s) => {
      Object.defineProperty(s.apiEndpoint, 'port', { enumerable: true, get: () => (reads++ === 0 ? 8443 : 'not a port') });
    });
    expect(defineSite(spec).apiEndpoint.port).toBe(8443);
    expect(reads).toBe(1);
  });

  test('an own __proto__ key (JSON.parse makes one) is refused instead of replacing the prototype', () => {
    const spec = seed('lab', (s) => {
      s.loadBalancer = JSON.parse('{"__proto__": {"statsPort": 22}}');
    });
    expect(lines(spec)).toEqual(['loadBalancer.__proto__: (missing) — a known key (__proto__ would replace the object\'s prototype)']);
  });

  test('an object that inherits its keys is no site data: it is refused, not read through its prototype', () => {
    const spec = seed('lab', (s) => {
      const { roles, ...rest } = s.hosts[3];
      s.hosts[3] = Object.assign(Object.create({ roles }), rest);
    });
    expect(lines(spec)).toEqual(['hosts[3]: "[an Object]" — a plain object or list (an Object is no site data)']);
  });

  test.each([
    ['a cdktf token marker', 'lab ${TfToken[TOKEN.1]}', 'text without a cdktf or cdk8s token marker'],
    ['a cdk8s token marker', 'lab ${Token[TOKEN.3]}', 'text without a cdktf or cdk8s token marker'],
    ['a NUL character', 'lab\u0000', 'text without control characters'],
    ['an unpaired surrogate', 'lab \ud800', 'text without control characters (other than tab and line breaks) or unpaired UTF-16 surrogates'],
  ])('text with %s is refused', (_, description, expected) => {
    const problems = problemsOf(seed('lab', (s) => {
      s.description = description;
    }));
    expect(problems.map((p) => p.path)).toEqual(['description']);
    expect(problems[0].expected).toContain(expected);
  });

  test('huge text is refused, and its value is shown shortened', () => {
    const problems = problemsOf(seed('lab', (s) => {
      s.description = 'x'.repeat(100_000);
    }));
    expect(problems.map((p) => [p.path, p.expected])).toEqual([['description', 'text of at most 65536 characters']]);
    expect(formatValue(problems[0].value).length).toBeLessThan(100);
  });

  test('a value shared so often it unfolds into millions (a list of itself, 20 levels deep) is one problem, read in bounded time', () => {
    let shared: unknown[] = ['x'];
    for (let i = 0; i < 20; i++) {
      shared = [shared, shared];
    }
    const started = Date.now();
    expect(lines(seed('lab', (s) => {
      s.description = shared;
    }))).toEqual(['(site): "[more than 200000 values]" — a site description of at most 200000 values']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('nesting deeper than any site is one problem at the level where it stops', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) {
      deep = [deep];
    }
    const problems = problemsOf(seed('lab', (s) => {
      s.description = deep;
    }));
    // The deep value is cut where reading stops; the description itself is still no text.
    expect(problems.map((p) => [p.path, p.expected])).toEqual([[`description${'[0]'.repeat(23)}`, 'at most 24 levels of nesting'], ['description', 'a string']]);
  });

  test('past 100 values that are no site data, reading stops and says so', () => {
    const problems = problemsOf(seed('lab', (s) => {
      s.description = Array.from({ length: 500 }, () => Symbol('x'));
    }));
    expect(problems).toHaveLength(101);
    expect(problems[100]).toEqual({ path: '(site)', value: '[more than 100 values that are no site data]', expected: 'a site file: fix the 100 listed first' });
  });

  test('NaN and Infinity are problems of their field like any wrong number', () => {
    expect(problemsOf(seed('lab', (s) => {
      s.hosts[3].vmId = NaN;
      s.apiEndpoint.port = Infinity;
    })).map((p) => `${p.path}: ${formatValue(p.value)}`)).toEqual(['hosts[lx-k3s-agent-01].vmId: null', 'apiEndpoint.port: null']);
  });

  test('defineSites: a hole and a throwing getter in the list of sites are problems naming the entry', () => {
    const specs: SiteSpec[] = [seed('lab'), seed('prod')];
    delete (specs as Draft)[0];
    Object.defineProperty(specs, 1, { enumerable: true, get: () => { throw new Error('gone'); } });
    expect(sitesProblems(specs)).toEqual([
      'sites[0]: a site specification: the list has an empty slot here (a stray comma?)',
      'sites[1]: a readable value (reading it threw: gone)',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Errors that name the right thing, once
// ---------------------------------------------------------------------------------------------------------------

describe('paths name the host, and a cascade is reported once', () => {
  test('a non-object entry in hosts does not shift the paths of the hosts after it', () => {
    expect(problemsOf(seed('kubeadm-stacked', (s) => {
      s.hosts[1] = 'controlplane1';
      s.hosts[4].roles = ['k3s-agent'];
    })).map((p) => p.path)).toEqual(['hosts[1]', 'hosts[worker1].roles[0]']);
  });

  test('a host without a valid name, and hosts sharing a name, are named by index', () => {
    expect(problemsOf(seed('lab', (s) => {
      s.hosts[3].name = 'Agent_1';
      s.hosts[4].name = 'lx-k3s-server-01';
    })).map((p) => p.path)).toEqual(['hosts[3].name', 'hosts[4].name']);
  });

  test('one broken proxmox section: one problem, no "(none declared)" for every host', () => {
    expect(lines(seed('lab', (s) => {
      s.proxmox = 'pve1';
    }))).toEqual(['proxmox: "pve1" — an object']);
  });

  test('a host on a broken proxmox.nodes entry is not reported again', () => {
    expect(problemsOf(seed('lab', (s) => {
      s.proxmox.nodes[1] = 'PVE_2';
      s.hosts[1].proxmoxNode = 'PVE_2';
      s.hosts[4].proxmoxNode = 'PVE_2';
    })).map((p) => p.path)).toEqual(['proxmox.nodes[1]']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Accepted, then failing later: every rule the constructs rely on is a validation rule
// ---------------------------------------------------------------------------------------------------------------

/** Each row: a change to a seed, and the one problem it must cause (path, and a fragment of the expectation). */
const LATE_FAILURES: readonly [string, string, (s: Draft) => void, string, string][] = [
  ['a host is both K3s server and agent', 'lab', (s) => s.hosts[0].roles.push('k3s-agent'),
    'hosts[lx-k3s-server-01].roles[2]', 'not both k3s-server and k3s-agent on one host'],
  ['a host is both kubeadm control plane and worker', 'kubeadm-stacked', (s) => {
    s.hosts[1].roles = ['control-plane', 'worker'];
  },
    'hosts[controlplane1].roles[1]', 'not both control-plane and worker on one host'],
  ['the stats page takes the API frontend\'s port', 'lab', (s) => {
    s.loadBalancer = { statsPort: 8443 };
  }, 'loadBalancer.statsPort', 'on hosts[lx-k3s-server-01] and 2 more hosts the HAProxy API frontend (apiEndpoint.port) listens on 8443'],
  ['the stats page takes an ingress NodePort on a load balancer that is also a K3s server', 'lab', (s) => {
    s.loadBalancer = { statsPort: 30080 };
  }, 'loadBalancer.statsPort', 'the NodePort range 30000–32767'],
  ['the stats page takes sshd\'s port', 'prod', (s) => {
    s.loadBalancer.statsPort = 22;
  }, 'loadBalancer.statsPort', 'sshd (the converge steps log in over it) listens on 22'],
  ['the API frontend takes the ingress HTTP frontend\'s port', 'prod', (s) => {
    s.apiEndpoint.port = 80;
  }, 'apiEndpoint.port', 'the HAProxy ingress HTTP frontend listens on 80'],
  ['the PostgreSQL writer endpoint takes the API frontend\'s port', 'homelab', (s) => {
    s.postgres = { writerPort: 6443 };
  }, 'postgres.writerPort', 'the HAProxy API frontend (apiEndpoint.port) listens on 6443'],
  ['PostgreSQL takes the Patroni REST API\'s port', 'homelab', (s) => {
    s.postgres = { port: 8008 };
  }, 'postgres.port', 'the Patroni REST API listens on 8008'],
  ['a PostgreSQL datastore of two nodes has no load balancer for its writer endpoint', 'homelab', (s) => {
    s.hosts[0].roles = ['datastore'];
    s.hosts[1].roles = ['datastore'];
    delete s.apiEndpoint.vip;
    s.postgres = { witness: 'cp1' };
  }, 'controlPlane.datastore', 'at least one host with role load-balancer as well'],
  ['a host is named like one of the stack\'s own constructs', 'lab', (s) => {
    s.hosts[3].name = 'proxmox';
  }, 'hosts[proxmox].name', 'a host name other than proxmox, random, tls, backend'],
  ['a host takes the API endpoint\'s default name', 'kubeadm-stacked', (s) => {
    s.hosts[4].name = 'api';
  }, 'hosts[api].name', 'a name other than "api": apiEndpoint.dnsName defaults to api.stacked.k8s.internal'],
  ['the API endpoint\'s name is a host\'s record in a zone other than the search domain', 'lab', (s) => {
    s.network.searchDomain = 'hosts.example.net';
    s.dns.zone = 'k3s.test.local';
    s.apiEndpoint.dnsName = 'lx-k3s-agent-01.k3s.test.local';
  }, 'apiEndpoint.dnsName', 'a name no host has in the zone k3s.test.local'],
  ['the search domain is too long for the hosts\' names', 'lab', (s) => {
    s.network.searchDomain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}`;
    s.apiEndpoint.dnsName = 'api.k3s.test.local';
  }, 'network.searchDomain', 'a domain short enough for the names in it'],
  ['a node label is in the node-role.kubernetes.io namespace', 'lab', (s) => {
    s.hosts[3].nodeLabels = { 'node-role.kubernetes.io/worker': 'true' };
  }, 'hosts[lx-k3s-agent-01].nodeLabels.node-role.kubernetes.io/worker', 'a label the kubelet may set on its own node'],
  ['a node label is in another k8s.io namespace', 'kubeadm-stacked', (s) => {
    s.hosts[4].nodeLabels = { 'example.k8s.io/tier': 'a' };
  }, 'hosts[worker1].nodeLabels.example.k8s.io/tier', 'a label the kubelet may set on its own node'],
  ['the snapshot schedule has six fields', 'lab', (s) => {
    s.controlPlane = { etcdSnapshotScheduleCron: '0 */6 * * * *' };
  }, 'controlPlane.etcdSnapshotScheduleCron', 'five fields (minute hour day-of-month month day-of-week), not 6'],
  ['the snapshot schedule never fires', 'lab', (s) => {
    s.controlPlane = { etcdSnapshotScheduleCron: '0 0 31 2 *' };
  }, 'controlPlane.etcdSnapshotScheduleCron', 'no month of "2" has day "31"'],
  ['the snapshot schedule has a weekday 7 (robfig/cron counts 0–6)', 'lab', (s) => {
    s.controlPlane = { etcdSnapshotScheduleCron: '0 3 * * 7' };
  }, 'controlPlane.etcdSnapshotScheduleCron', '"7" lies outside 0–6'],
  ['a load balancer is decommissioned (it would stay a VRRP peer)', 'prod', (s) => {
    s.hosts[0].decommission = true;
  }, 'hosts[k3s-prod-lb-01].decommission', 'false while the host has role load-balancer'],
  ['a datastore node is decommissioned (it would stay a Patroni and etcd member)', 'homelab', (s) => {
    s.hosts[1].decommission = true;
  }, 'hosts[pg-node-2].decommission', 'false while the host has role datastore, load-balancer'],
  ['the etcd witness is decommissioned', 'homelab', (s) => {
    s.postgres = { witness: 'cp3' };
    s.hosts[4].decommission = true;
  }, 'hosts[cp3].decommission', 'the host is the datastore\'s etcd witness'],
  ['a kubeadm node is decommissioned', 'kubeadm-stacked', (s) => {
    s.hosts[5].decommission = true;
  }, 'hosts[worker2].decommission', 'kubeadm nodes have no decommissioning step'],
  ['the server that is the API endpoint (no load balancer) is decommissioned', 'lab', (s) => {
    s.hosts.forEach((host: Draft) => {
      host.roles = host.roles.filter((role: string) => role !== 'load-balancer');
    });
    delete s.apiEndpoint.vip;
    s.apiEndpoint.port = 6443;
    s.hosts[0].decommission = true;
  }, 'hosts[lx-k3s-server-01].decommission', 'the API endpoint is this server\'s own address'],
];

describe('rules the constructs rely on, refused at defineSite', () => {
  test.each(LATE_FAILURES)('%s', (_, name, mutate, path, expected) => {
    const problems = problemsOf(seed(name, mutate));
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0].expected).toContain(expected);
  });

  test('every server decommissioned: one problem, naming a server', () => {
    const problems = problemsOf(seed('prod', (s) => {
      [3, 4, 5].forEach((i) => {
        s.hosts[i].decommission = true;
      });
    }));
    expect(problems.map((p) => `${p.path}: ${p.expected}`)).toEqual([
      'hosts[k3s-prod-cp-01].decommission: false for at least one K3s server: the cluster and the decommissioning run from a server that stays',
    ]);
  });

  test.each([
    '0 */6 * * *', '*/15 * * * *', '0 3 * * MON-FRI', '0 0 1 jan,jul *', '30 2 29 2 *', '0 0 ? * 0', '5/10 * * * *', '@daily', '@every 6h30m', 'CRON_TZ=Europe/Berlin 0 3 * * *',
  ])('a schedule K3s reads: %s', (schedule) => {
    expect(snapshotScheduleProblem(schedule)).toBeUndefined();
  });

  test.each(['@every 10s', '@often', '60 * * * *', '*/0 * * * *', '5-1 * * * *', '0 0 * JANUARY *', 'TZ= 0 3 * * *', '0 0 31 4,6 *'])(
    'a schedule K3s would not run: %s', (schedule) => {
      expect(snapshotScheduleProblem(schedule)).toEqual(expect.any(String));
    });

  test('node labels the kubelet may set are accepted', () => {
    const plan = defineSite(seed('lab', (s) => {
      s.hosts[3].nodeLabels = { 'node.kubernetes.io/pool': 'a', 'topology.kubernetes.io/zone': 'z1', 'example.com/tier': 'web', tier: 'x' };
    }));
    expect(Object.keys(plan.hosts[3].nodeLabels)).toHaveLength(4);
  });

  test('an agent, and a server behind load balancers, can still be decommissioned', () => {
    const plan = defineSite(seed('lab', (s) => {
      s.hosts[4].roles = ['k3s-agent'];
      s.hosts[4].decommission = true;
    }));
    expect(plan.hosts[4].decommission).toBe(true);
    expect(defineSite(seed('prod', (s) => {
      s.hosts[5].decommission = true;
    })).hosts[5].decommission).toBe(true);
  });
});

describe('sites that share a Proxmox VE cluster', () => {
  test('two sites on one API endpoint cannot use one VM id; on different clusters they can', () => {
    const kubeadm = seed('kubeadm-multi');
    expect(() => defineSites([seed('lab'), kubeadm])).not.toThrow();
    let thrown: unknown;
    try {
      defineSites([seed('lab'), seed('kubeadm-multi', (s) => {
        s.proxmox.endpoint = 'https://pve1.k3s.test.local:8006/api2/json';
      })]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).problems.map((p) => `${p.path}: ${p.value} — ${p.expected}`)).toEqual([
      'kubeadm-multi: hosts[master1].vmId: 111 on pve1.k3s.test.local:8006 — a unique VM id on this Proxmox VE cluster (already used by lab: hosts[lx-k3s-server-01].vmId)',
      'kubeadm-multi: hosts[master2].vmId: 112 on pve1.k3s.test.local:8006 — a unique VM id on this Proxmox VE cluster (already used by lab: hosts[lx-k3s-server-02].vmId)',
      'kubeadm-multi: hosts[worker1].vmId: 113 on pve1.k3s.test.local:8006 — a unique VM id on this Proxmox VE cluster (already used by lab: hosts[lx-k3s-server-03].vmId)',
      ...['pve1', 'pve2'].map((node) => `kubeadm-multi: proxmox.cloudImage.fileName: ubuntu-24.04-server-cloudimg-amd64.qcow2 in local on node ${node} of pve1.k3s.test.local:8006 — `
        + 'a unique file name on this node and datastore (two sites would manage one file: the second download fails, and destroying either site deletes it) (already used by lab: proxmox.cloudImage.fileName)'),
    ]);
  });

  const onLabCluster = (s: Draft) => {
    s.proxmox.endpoint = 'https://pve1.k3s.test.local:8006/';
    s.hosts = s.hosts.map((host: Draft, i: number) => ({ ...host, vmId: 900 + i }));
  };

  test('two sites on one cluster need their own file names for the cloud image; renamed, they are accepted', () => {
    expect(sitesProblems([seed('lab'), seed('kubeadm-multi', onLabCluster)])).toEqual([
      expect.stringMatching(/^kubeadm-multi: proxmox\.cloudImage\.fileName: a unique file name on this node and datastore/),
      expect.stringMatching(/^kubeadm-multi: proxmox\.cloudImage\.fileName: a unique file name on this node and datastore/),
    ]);
    expect(() => defineSites([seed('lab'), seed('kubeadm-multi', (s) => {
      onLabCluster(s);
      s.proxmox.cloudImage = { ...s.proxmox.cloudImage, fileName: 'kubeadm-multi-ubuntu-24.04.qcow2' };
    })])).not.toThrow();
  });

  test('two sites on one cluster cannot have VMs of one name on one node (their snippets are named after the VM)', () => {
    const renamedImage = (s: Draft) => {
      onLabCluster(s);
      s.proxmox.cloudImage = { ...s.proxmox.cloudImage, fileName: 'other.qcow2' };
    };
    const sameName = seed('kubeadm-multi', (s) => {
      renamedImage(s);
      s.hosts[0] = { ...s.hosts[0], name: 'lx-k3s-server-01', proxmoxNode: 'pve1' };
    });
    expect(sitesProblems([seed('lab'), sameName])).toEqual([
      'kubeadm-multi: hosts[lx-k3s-server-01].name: a unique VM name on this node and snippets datastore (its user-data and meta-data snippets are named after it: '
        + 'two sites would overwrite and delete each other\'s) (already used by lab: hosts[lx-k3s-server-01].name)',
    ]);
    // On another node the snippets are other files.
    expect(() => defineSites([seed('lab'), seed('kubeadm-multi', (s) => {
      renamedImage(s);
      s.hosts[0] = { ...s.hosts[0], name: 'lx-k3s-server-01', proxmoxNode: 'pve2' };
    })])).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Warnings: legal but probably wrong
// ---------------------------------------------------------------------------------------------------------------

describe('warnings for what is legal but probably wrong', () => {
  const warnings = (plan: SitePlan) => plan.warnings.map((w) => `${w.path}: ${w.message}`);

  test('an even number of etcd voters (allowed explicitly)', () => {
    const plan = defineSite(seed('lab', (s) => {
      s.hosts[3].roles = ['k3s-server', 'dns'];
      s.controlPlane = { allowEvenServerCount: true };
    }));
    expect(warnings(plan)).toContain('hosts: 4 etcd members tolerate as many failures as 3 (1), and every write waits for 3 of them: an odd number is as safe with one server less');
  });

  test('DNS forwarders that are the site\'s own DNS servers', () => {
    const plan = defineSite(seed('lab', (s) => {
      s.dns.forwarders = ['192.168.168.121', '192.168.168.1'];
    }));
    expect(warnings(plan)).toContain('dns.forwarders: 192.168.168.121 is the site\'s own DNS server: Bind9 would forward queries for other names to itself, and those names would not resolve');
  });

  test('a VIP held by a single load balancer', () => {
    const plan = defineSite(seed('lab', (s) => {
      s.hosts[1].roles = ['k3s-server'];
      s.hosts[2].roles = ['k3s-server'];
    }));
    expect(warnings(plan)).toContain('apiEndpoint.vip: the VIP 192.168.168.100 has a single load balancer ("lx-k3s-server-01") to hold it: '
      + 'Keepalived has no peer to move it to, and with no unicast peer it advertises by multicast');
  });

  test('the seeds keep their warnings as they were', () => {
    expect(SITE_SPECS.map((spec) => defineSite(spec).warnings.map((w) => w.path))).toEqual([
      // homelab: losing Proxmox node pve1 stops the datastore (pg-node-1 and the witness cp1 are on it).
      // backup: no seed has a backup target (issue 19 does not add one).
      ['hosts', 'backup', 'proxmox.cloudImage.checksum'],
      ['backup', 'proxmox.cloudImage.checksum', 'proxmox.lxcTemplate.checksum'],
      ['backup', 'proxmox.cloudImage.checksum'],
      ['hosts', 'backup', 'proxmox.cloudImage.checksum'],
      ['hosts', 'hosts', 'backup', 'proxmox.cloudImage.checksum'],
    ]);
  });
});
