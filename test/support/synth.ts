import { Testing } from 'cdktf';
import { SitePlan, SiteStack } from '../../constructs';

/** Synthesized Terraform JSON, loosely typed for deep assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TfJson = Record<string, any>;

/** Synthesizes a site's stack with validations on, returning the stack and its parsed JSON. */
export function synthSite(site: SitePlan): { stack: SiteStack; json: TfJson; text: string } {
  const app = Testing.app();
  const stack = new SiteStack(app, site.name, { site });
  const text = Testing.synth(stack, true);
  return { stack, json: JSON.parse(text), text };
}

/** The resources of one type, keyed by their cdktf construct path (stable and readable) instead of logical id. */
export function resourcesByPath(json: TfJson, type: string): Record<string, TfJson> {
  const resources = json.resource?.[type] ?? {};
  return Object.fromEntries(Object.values(resources).map((r) => [(r as TfJson)['//'].metadata.path, r as TfJson]));
}
