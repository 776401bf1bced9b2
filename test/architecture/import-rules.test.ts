import { readdirSync, readFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

/**
 * The layering the folders show, enforced: the Terraform constructs never load cdk8s, the Kubernetes constructs
 * never load cdktf, the pure renderers load no construct library at all, and neither app loads the other.
 */
const ROOT = resolve(__dirname, '../..');

interface ImportRule {
  /** Folder (repository-relative) whose files the rule applies to, or one file. */
  readonly from: string;
  /** Forbidden targets: package names, or repository-relative folders written `./folder`. */
  readonly forbidden: readonly string[];
  readonly why: string;
}

const RULES: readonly ImportRule[] = [
  { from: 'constructs/tf', forbidden: ['cdk8s', 'cdk8s-plus-29', './constructs/k8s'], why: 'the Terraform constructs stay free of cdk8s' },
  { from: 'constructs/k8s', forbidden: ['cdktf', '@cdktf/provider-random', '@cdktf/provider-tls', './constructs/tf'], why: 'the Kubernetes constructs stay free of cdktf' },
  {
    from: 'constructs/renderers',
    forbidden: ['constructs', 'cdktf', 'cdk8s', 'cdk8s-plus-29', './constructs/tf', './constructs/k8s', './constructs/roles'],
    why: 'renderers are pure functions of the site plan',
  },
  {
    from: 'constructs/monitoring',
    forbidden: ['constructs', 'cdktf', 'cdk8s', 'cdk8s-plus-29', './constructs/tf', './constructs/k8s', './constructs/roles'],
    why: 'the monitoring model (metrics endpoints, alert rules, scrape configs) is pure: the hosts\' roles and the cluster stack both read it',
  },
  {
    from: 'constructs/renderers/haproxy.ts',
    forbidden: ['./constructs/renderers/postgres'],
    why: 'the load balancer renderer knows no datastore: the datastore adds its writer service (HaLoadBalancerPair.addTcpService)',
  },
  {
    from: 'constructs/cli',
    forbidden: ['cdktf', 'cdk8s', 'cdk8s-plus-29', './constructs/k8s', './constructs/tf/site-stack'],
    why: 'the plan command runs the project\'s app in its own process and reads only synthesized JSON',
  },
  { from: 'infra', forbidden: ['./k8s'], why: 'the cdktf app does not load the cdk8s app' },
  { from: 'k8s', forbidden: ['./infra'], why: 'the cdk8s app does not load the cdktf app' },
];

/** Every module specifier a TypeScript file imports, re-exports or requires. */
export function importsOf(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]/g), ...source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...source.matchAll(/(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)];
  return specifiers.map((match) => match[1]);
}

/** What a specifier in `file` names: `./` and a repository-relative path for relative imports, else the package name. */
function target(file: string, specifier: string): string {
  if (specifier.startsWith('.')) {
    return `./${relative(ROOT, resolve(dirname(join(ROOT, file)), specifier)).split('\\').join('/')}`;
  }
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** True when `file` is the rule's file or inside its folder. */
const covers = (rule: ImportRule, file: string) => file === rule.from || file.startsWith(`${rule.from}/`);

/** The rule violations of `files` (repository-relative path → source). */
export function violations(files: ReadonlyMap<string, string>, rules: readonly ImportRule[] = RULES): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    for (const rule of rules.filter((r) => covers(r, file))) {
      for (const specifier of importsOf(source)) {
        const name = target(file, specifier);
        const hit = rule.forbidden.find((forbidden) => name === forbidden || name.startsWith(`${forbidden}/`));
        if (hit) {
          found.push(`${file} imports ${JSON.stringify(specifier)} (${hit}): ${rule.why}`);
        }
      }
    }
  }
  return found;
}

function typeScriptFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      return typeScriptFiles(path);
    }
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('import rules', () => {
  const files = new Map(['constructs', 'infra', 'k8s', 'sites'].flatMap(typeScriptFiles).map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));

  test('the rules cover real files (a rule on an empty folder would prove nothing)', () => {
    for (const rule of RULES) {
      expect({ rule: rule.from, files: [...files.keys()].filter((f) => covers(rule, f)).length > 0 }).toEqual({ rule: rule.from, files: true });
    }
  });

  test('no file breaks a rule', () => {
    expect(violations(files)).toEqual([]);
  });

  test('the check can fail: each kind of forbidden import is reported', () => {
    const bad = new Map([
      ['constructs/tf/x.ts', "import { Chart } from 'cdk8s';\nimport { renderCiliumBootstrapManifest } from '../k8s/cilium-bootstrap-manifest';"],
      ['constructs/k8s/y.ts', "export { TerraformStack } from 'cdktf';"],
      ['constructs/renderers/z.ts', "import { Construct } from 'constructs';\nconst roles = require('../roles/base-host');"],
      ['k8s/main.ts', "import { selectSites } from '../infra/select-sites';"],
      ['constructs/renderers/fine.ts', "import { SitePlan } from '../site/plan';\nimport { stringify } from 'yaml';"],
      ['constructs/renderers/haproxy.ts', "import { renderPostgresWriterHaproxySections } from './postgres';"],
    ]);
    expect(violations(bad)).toEqual([
      'constructs/tf/x.ts imports "cdk8s" (cdk8s): the Terraform constructs stay free of cdk8s',
      'constructs/tf/x.ts imports "../k8s/cilium-bootstrap-manifest" (./constructs/k8s): the Terraform constructs stay free of cdk8s',
      'constructs/k8s/y.ts imports "cdktf" (cdktf): the Kubernetes constructs stay free of cdktf',
      'constructs/renderers/z.ts imports "constructs" (constructs): renderers are pure functions of the site plan',
      'constructs/renderers/z.ts imports "../roles/base-host" (./constructs/roles): renderers are pure functions of the site plan',
      'k8s/main.ts imports "../infra/select-sites" (./infra): the cdk8s app does not load the cdktf app',
      'constructs/renderers/haproxy.ts imports "./postgres" (./constructs/renderers/postgres): the load balancer renderer knows no datastore: the datastore adds its writer service (HaLoadBalancerPair.addTcpService)',
    ]);
  });
});
