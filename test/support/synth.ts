import { TerraformElement, TerraformStack, Testing } from 'cdktf';
import { SitePlan, SiteStack, k3sServerManifests } from '../../constructs';

/** Synthesized Terraform JSON, loosely typed for deep assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TfJson = Record<string, any>;

/**
 * Synthesizes a site's stack as infra/main.ts does, with validations on, returning the stack and its parsed JSON;
 * `customize` changes the stack first, as an operator's escape hatch would.
 */
export function synthSite(site: SitePlan, customize?: (stack: SiteStack) => void): { stack: SiteStack; json: TfJson; text: string } {
  const app = Testing.app();
  const stack = new SiteStack(app, site.name, { site, serverManifests: k3sServerManifests(site) });
  customize?.(stack);
  const text = Testing.synth(stack, true);
  const json = JSON.parse(text);
  PATHS.set(json, constructPaths(stack));
  return { stack, json, text };
}

const PATHS = new WeakMap<TfJson, Map<string, string>>();

/** Logical id → construct path of every element of a stack. */
function constructPaths(stack: TerraformStack): Map<string, string> {
  const elements = stack.node.findAll().filter((c): c is TerraformElement => c instanceof TerraformElement);
  return new Map(elements.map((element) => [stack.getLogicalId(element), element.node.path]));
}

/**
 * The resources of one type in synthesized order, keyed by their construct path (readable and stable) instead of
 * the logical id. Only for JSON from {@link synthSite}.
 */
export function resourcesByPath(json: TfJson, type: string): Record<string, TfJson> {
  const paths = PATHS.get(json);
  if (!paths) {
    throw new Error('resourcesByPath needs JSON returned by synthSite');
  }
  return Object.fromEntries(Object.entries(json.resource?.[type] ?? {}).map(([id, resource]) => [paths.get(id) ?? id, resource as TfJson]));
}

/** The logical id of the element at a construct path, e.g. for `depends_on` entries. Only for JSON from {@link synthSite}. */
export function logicalIdOf(json: TfJson, path: string): string {
  const entry = [...(PATHS.get(json) ?? new Map<string, string>()).entries()].find(([, p]) => p === path);
  if (!entry) {
    throw new Error(`no element at ${path}`);
  }
  return entry[0];
}
