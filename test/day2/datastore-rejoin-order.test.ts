import { SiteSpec, defineSite } from '../../constructs';
import { LabHost } from '../rolling/lab';
import homelab from '../../sites/homelab';
import { postgresSiteSpec } from '../rolling/rolling-site';
import { TfJson, synthSite } from '../support/synth';

// A rebuilt datastore etcd member's rejoin step must fit the rollout: Terraform refuses a configuration whose
// dependencies form a cycle ("Error: Cycle"), which the rebuild of the first member in the rollout (the witness of
// the rolling lab, whose later members are containers that wait for its converge step) once did.

/** `type.name` of every resource, with the resources it depends on (depends_on and `${type.name…}` references). */
function dependencyGraph(json: TfJson): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const resources = json.resource as Record<string, Record<string, TfJson>>;
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, body] of Object.entries(byName)) {
      const text = JSON.stringify(body);
      const referenced = [...text.matchAll(/\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)/g)].map((m) => m[1]);
      const dependsOn = ((body.depends_on ?? []) as string[]);
      graph.set(`${type}.${name}`, new Set([...referenced, ...dependsOn].filter((id) => !id.startsWith('var.') && !id.startsWith('data.') && !id.startsWith('local.'))));
    }
  }
  return graph;
}

/** One dependency cycle of the graph (its resources in order), or undefined when there is none. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done' || !graph.has(node)) {
      return undefined;
    }
    if (state.get(node) === 'visiting') {
      return [...path.slice(path.indexOf(node)), node];
    }
    state.set(node, 'visiting');
    path.push(node);
    for (const next of graph.get(node)!) {
      const cycle = visit(next);
      if (cycle) {
        return cycle;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) {
      return cycle;
    }
  }
  return undefined;
}

const rebuilt = (spec: SiteSpec, name: string): SiteSpec => ({ ...spec, hosts: spec.hosts.map((h) => (h.name === name ? { ...h, generation: 1 } : h)) });

/** A host key for the lab site's pinned keys (a throwaway key's public half; nothing connects here). */
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF3jLpZN8B8w8inJx1NB04wZk/3LbJLOYFJszZVFYM2n';
/** The rolling lab's datastore site: every etcd member an LXC container (the witness first in the rollout). */
const labSite: SiteSpec = postgresSiteSpec(new Map(['pg-1', 'pg-2', 'pg-witness'].map((name) => [name, { hostKey: HOST_KEY } as LabHost])), 15, true);

describe.each([['homelab', homelab], ['the rolling lab\'s datastore (containers)', labSite]] as const)('rebuilding each datastore etcd member of %s', (_, spec) => {
  const plan = defineSite(spec);
  test.each(plan.postgres!.etcdMembers.map((m) => m.name))('%s: the stack has a rejoin step and no dependency cycle', (member) => {
    const { json } = synthSite(defineSite(rebuilt(spec, member)));
    const graph = dependencyGraph(json);
    expect([...graph.keys()].filter((id) => id.includes(`${member.replace(/-/g, '')}DatastoreRejoin`) || id.includes(`${member}-DatastoreRejoin`))).toHaveLength(1);
    expect(findCycle(graph)).toBeUndefined();
  });
});
