import { TerraformResource } from 'cdktf';

/**
 * Terraform reads `lifecycle.replace_triggered_by` and `lifecycle.ignore_changes` as bare references
 * (`terraform_data.x`, `initialization[0].user_data_file_id`) and rejects an interpolation there with "Invalid
 * character" before it does anything else. cdktf 0.21 renders a resource passed to `replaceTriggeredBy` as
 * `"${terraform_data.x}"` (hashicorp/terraform-cdk issue 3196; cdktf is archived), so the library writes these
 * entries itself, as plain addresses.
 */
export function setLifecycleReferences(resource: TerraformResource, lifecycle: {
  /** Resources whose replacement replaces this one. */
  readonly replaceTriggeredBy?: readonly TerraformResource[];
  /** Attribute paths whose changes Terraform ignores. */
  readonly ignoreChanges?: readonly string[];
}): void {
  if (lifecycle.replaceTriggeredBy) {
    resource.addOverride('lifecycle.replace_triggered_by', lifecycle.replaceTriggeredBy.map(resourceAddress));
  }
  if (lifecycle.ignoreChanges) {
    resource.addOverride('lifecycle.ignore_changes', [...lifecycle.ignoreChanges]);
  }
}

/** `terraform_data.x`: the address Terraform knows the resource by in its stack. */
export function resourceAddress(resource: TerraformResource): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}

/**
 * Every `lifecycle` entry of a synthesized stack that holds an interpolation, as `<type>.<name>.lifecycle.<key>:
 * <value>` (empty when Terraform can read them all).
 */
export function interpolatedLifecycleEntries(stack: { readonly resource?: Record<string, Record<string, { readonly lifecycle?: unknown }>> }): string[] {
  const found: string[] = [];
  for (const [type, resources] of Object.entries(stack.resource ?? {})) {
    for (const [name, resource] of Object.entries(resources)) {
      for (const [key, value] of Object.entries((resource.lifecycle ?? {}) as Record<string, unknown>)) {
        const entries = Array.isArray(value) ? value : [value];
        entries.filter((entry) => typeof entry === 'string' && /[$%]\{/.test(entry))
          .forEach((entry) => found.push(`${type}.${name}.lifecycle.${key}: ${JSON.stringify(entry)}`));
      }
    }
  }
  return found;
}
