import { IResolvable, TerraformResource, TerraformResourceConfig, anyToTerraform, hashMapper } from 'cdktf';
import { Construct } from 'constructs';

/** A map of values, or a token (`Lazy`) producing one at synthesis. */
export type TerraformDataValues = { [key: string]: unknown } | IResolvable;

/** What a {@link TerraformData} takes: the resource's meta-arguments, its `input` and `triggers_replace`. */
export interface TerraformDataConfig extends Omit<TerraformResourceConfig, 'terraformResourceType' | 'terraformGeneratorMetadata'> {
  /** Stored in the state; a change updates the resource in place (its provisioners do not run again). */
  readonly input?: TerraformDataValues;
  /** Stored in the state; a change replaces the resource, which runs its create-time provisioners again. */
  readonly triggersReplace?: TerraformDataValues;
}

/**
 * Terraform's built-in `terraform_data` resource (Terraform ≥ 1.4), the anchor of every lifecycle step.
 *
 * cdktf's own `DataResource` synthesizes the same block, but adds a validation to every instance that runs
 * `terraform version` in a child process at each synthesis: about 60 ms per resource, which made synthesis take
 * a quarter of a second per host. The stack states the Terraform version it needs once instead
 * ({@link TERRAFORM_REQUIRED_VERSION}), and Terraform itself enforces it at `init`.
 */
export class TerraformData extends TerraformResource {
  private readonly inputValues?: TerraformDataValues;
  private readonly replaceTriggers?: TerraformDataValues;

  constructor(scope: Construct, id: string, config: TerraformDataConfig = {}) {
    const { input, triggersReplace, ...meta } = config;
    super(scope, id, { ...meta, terraformResourceType: 'terraform_data' });
    this.inputValues = input;
    this.replaceTriggers = triggersReplace;
  }

  protected synthesizeAttributes(): { [name: string]: unknown } {
    return {
      input: hashMapper(anyToTerraform)(this.inputValues),
      triggers_replace: hashMapper(anyToTerraform)(this.replaceTriggers),
    };
  }
}

/**
 * The Terraform versions every generated stack needs: `check` blocks and `plantimestamp()` (the certificate renewal
 * warnings) came in 1.5, `terraform_data` in 1.4. The tests run 1.11.
 */
export const TERRAFORM_REQUIRED_VERSION = '>= 1.5';
